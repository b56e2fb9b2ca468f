"""Analyst pages: the BPMN/DMN modeler, validate, deploy, and the version list with a diff summary."""

from __future__ import annotations

from flask import flash, render_template, request

import forms

from ..departments import DEPARTMENTS, ENTERPRISE
from ..errors import InvalidDefinition, InvalidInput, NotFound
from ..services import deployments
from . import bp, version_diff
from .context import database, now, settings
from .i18n import gettext as _
from .i18n import one_language, page_half
from .session_auth import current_actor, roles


@bp.route("/modeler")
@roles("analyst", "admin")
def modeler():
    with database().read() as session:
        definitions = deployments.list_definitions(session)
        decisions = deployments.deployed_context(session).decisions
        dmn_files = sorted({filename for filename, _content in decisions.values()})
        return render_template("modeler_index.html", definitions=definitions, dmn_files=dmn_files)


@bp.route("/modeler/<key>")
@roles("analyst", "admin")
def modeler_process(key: str):
    with database().read() as session:
        definition = deployments.get_definition(session, key)
        versions = [
            d for d in deployments.list_definitions(session, all_versions=True) if d.key == key
        ]
        summaries = version_diff.summarize([d.file.content for d in versions], key)
        deployed = request.args.get("deployed")
        if deployed:
            flash(_("已部署 %(key)s 版本 %(version)s", key=key, version=deployed), "success")
        return render_template(
            "modeler.html",
            definition=definition,
            xml=definition.file.content,
            filename=definition.file.filename,
            versions=list(reversed(list(zip(versions, summaries, strict=True)))),
            departments=[(code, names) for code, names in DEPARTMENTS.items()],
            enterprise=ENTERPRISE,
            form_keys=forms.list_forms(),
        )


@bp.route("/modeler/dmn/<filename>")
@roles("analyst", "admin")
def modeler_dmn(filename: str):
    with database().read() as session:
        decisions = deployments.deployed_context(session).decisions
        for name, content in decisions.values():
            if name == filename:
                return render_template("modeler_dmn.html", filename=name, xml=content.decode())
    raise NotFound("决策表不存在 (no such DMN file)")


def _bundle() -> list[tuple[str, bytes]]:
    body = request.get_json(silent=True) or {}
    filename, xml = body.get("filename"), body.get("xml")
    if not isinstance(filename, str) or not isinstance(xml, str) or not xml.strip():
        raise InvalidInput(
            "需要 filename 和 xml (filename and xml are required)", {"xml": ["必填"]}
        )
    if not filename.endswith((".bpmn", ".dmn")) or "/" in filename or "\\" in filename:
        raise InvalidInput("文件名无效 (invalid file name)", {"filename": ["须为 .bpmn 或 .dmn"]})
    return [(filename, xml.encode("utf-8"))]


def _in_page_language(problems) -> list[dict]:
    """Problems as the page shows them: the message in the page's language (the API keeps
    both). A problem written as two halves is shown by its half: its message cannot always
    be split back, a detail (a Chinese lane name, a SyntaxError) may hold Chinese or
    parentheses."""
    shown = []
    for problem in problems:
        item = problem if isinstance(problem, dict) else problem.as_dict()
        halves = getattr(problem, "halves", None)
        message = one_language(item["message"]) if halves is None else page_half(*halves)
        shown.append({**item, "message": message})
    return shown


@bp.route("/modeler/validate", methods=["POST"])
@roles("analyst", "admin")
def modeler_validate():
    files = _bundle()
    with database().read() as session:
        analysis = deployments.validate_bundle(
            session, current_actor(), files, settings().max_bpmn_bytes
        )
    return {"valid": analysis.valid, "problems": _in_page_language(analysis.problems)}


@bp.route("/modeler/deploy", methods=["POST"])
@roles("analyst", "admin")
def modeler_deploy():
    files = _bundle()
    try:
        with database().write() as session:
            deployment, definitions = deployments.deploy_bundle(
                session, current_actor(), files, now(), settings().max_bpmn_bytes
            )
            # An unchanged process keeps its version: the page says so instead of "deployed".
            result = [
                {"key": d.key, "version": d.version, "new": d.deployment_id == deployment.id}
                for d in definitions
            ]
    except InvalidDefinition as exc:
        return {
            "deployed": [],
            "problems": _in_page_language(
                getattr(exc, "analysed", None) or getattr(exc, "problems", [])
            ),
        }, 422
    return {"deployed": result, "problems": []}
