"""Analyst pages: the BPMN/DMN modeler, validate, deploy, and the version list with a diff summary."""

from __future__ import annotations

from flask import flash, render_template, request
from lxml import etree

import forms

from ..bpmn_xml import XmlProblem, parse_secure
from ..departments import DEPARTMENTS, ENTERPRISE
from ..errors import InvalidDefinition, InvalidInput, NotFound
from ..services import deployments
from . import bp
from .context import database, now, settings
from .i18n import gettext as _
from .session_auth import current_actor, roles

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
# Flow elements whose change an analyst wants to see in a version's summary.
_SKIP_TAGS = {"incoming", "outgoing", "flowNodeRef", "BPMNShape", "BPMNEdge", "Bounds", "waypoint"}


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
        summaries = _summaries(versions)
        deployed = request.args.get("deployed")
        if deployed:
            flash(f"{_('已部署')} {key} {_('版本')} {deployed}", "success")
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


@bp.route("/modeler/validate", methods=["POST"])
@roles("analyst", "admin")
def modeler_validate():
    files = _bundle()
    with database().read() as session:
        analysis = deployments.validate_bundle(
            session, current_actor(), files, settings().max_bpmn_bytes
        )
    return {"valid": analysis.valid, "problems": [p.as_dict() for p in analysis.problems]}


@bp.route("/modeler/deploy", methods=["POST"])
@roles("analyst", "admin")
def modeler_deploy():
    files = _bundle()
    try:
        with database().write() as session:
            _deployment, definitions = deployments.deploy_bundle(
                session, current_actor(), files, now(), settings().max_bpmn_bytes
            )
            result = [{"key": d.key, "version": d.version} for d in definitions]
    except InvalidDefinition as exc:
        return {"deployed": [], "problems": getattr(exc, "problems", [])}, 422
    return {"deployed": result, "problems": []}


def _elements(xml: str) -> dict[str, tuple]:
    """id -> (tag, name, properties) of the elements that mean something to a reader."""
    try:
        root = parse_secure(xml.encode("utf-8"))
    except XmlProblem:
        return {}
    result = {}
    for element in root.iter():
        if not isinstance(element.tag, str) or not element.get("id"):
            continue
        tag = etree.QName(element).localname
        if tag in _SKIP_TAGS:
            continue
        props = tuple(
            sorted(
                (prop.get("name"), prop.get("value"))
                for prop in element.iter(f"{{{SPIFF_NS}}}property")
            )
        )
        children = tuple(
            (etree.QName(child).localname, (child.text or "").strip())
            for child in element
            if isinstance(child.tag, str)
            and etree.QName(child).localname in ("conditionExpression", "script", "timeDuration")
        )
        result[element.get("id")] = (tag, element.get("name"), props, children)
    return result


def _summaries(versions) -> list[dict]:
    """Per version: element ids added, removed and changed since the previous version."""
    summaries = []
    previous = None
    for definition in versions:
        current = _elements(definition.file.content)
        if previous is None:
            summaries.append({"first": True})
        else:
            summaries.append(
                {
                    "first": False,
                    "added": sorted(set(current) - set(previous)),
                    "removed": sorted(set(previous) - set(current)),
                    "changed": sorted(
                        key for key in set(current) & set(previous) if current[key] != previous[key]
                    ),
                }
            )
        previous = current
    return summaries
