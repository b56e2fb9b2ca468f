"""Validate and deploy BPMN/DMN bundles; read definitions and their XML."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import forms

from .. import definitions
from ..db import serialize
from ..errors import Forbidden, InvalidDefinition, NotFound
from ..models import Deployment, DeploymentFile, ProcessDefinition
from .actors import Actor


def _require_modeler(actor: Actor) -> None:
    if actor.role not in ("analyst", "admin"):
        raise Forbidden("只有分析员和管理员可以部署流程 (analysts and admins only)")


def deployed_context(session: Session) -> definitions.DeployedContext:
    context = definitions.DeployedContext()
    context.process_keys = set(session.scalars(select(ProcessDefinition.key).distinct()))
    dmn_files = session.scalars(
        select(DeploymentFile)
        .where(DeploymentFile.kind == "dmn")
        .order_by(DeploymentFile.id.desc())
    )
    for dmn in dmn_files:
        for decision_id in definitions.decisions_in(dmn.content.encode()):
            context.decisions.setdefault(decision_id, (dmn.filename, dmn.content.encode()))
    return context


def _with_dependents(session: Session, files: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """A DMN-only change re-deploys the latest processes that call its decisions."""
    names = {name for name, _ in files}
    decisions = set()
    for name, content in files:
        if name.lower().endswith(".dmn"):
            try:
                decisions.update(definitions.decisions_in(content))
            except Exception:  # reported by the analysis itself
                continue
    if not decisions:
        return files
    extra = []
    for definition in latest_definitions(session):
        uses = set(definition.decision_refs or [])
        if uses & decisions and definition.file.filename not in names:
            extra.append((definition.file.filename, definition.file.content.encode()))
            names.add(definition.file.filename)
    return files + extra


def validate_bundle(session: Session, actor: Actor, files: list[tuple[str, bytes]], max_bytes: int):
    _require_modeler(actor)
    return definitions.analyse_bundle(
        files, deployed_context(session), forms.form_exists, max_bytes
    )


def deploy_bundle(
    session: Session, actor: Actor, files: list[tuple[str, bytes]], now: datetime, max_bytes: int
) -> tuple[Deployment, list[ProcessDefinition]]:
    """Store a valid bundle; unchanged processes keep their version, changed ones get +1."""
    _require_modeler(actor)
    if not files:
        raise InvalidDefinition(
            "没有上传文件 (no files)", {"files": ["至少上传一个 .bpmn 或 .dmn 文件"]}
        )
    serialize(session, "deploy")  # the next version of a key is read, then written
    files = _with_dependents(session, files)
    analysis = definitions.analyse_bundle(
        files, deployed_context(session), forms.form_exists, max_bytes
    )
    if not analysis.valid:
        raise problems_error(analysis.problems)

    deployment = Deployment(created_at=now, created_by=actor.username)
    session.add(deployment)
    session.flush()
    stored: dict[str, DeploymentFile] = {}
    for name, content in files:
        kind = "dmn" if name in analysis.dmn_files else "bpmn"
        row = DeploymentFile(
            deployment_id=deployment.id,
            filename=name,
            kind=kind,
            content=content.decode("utf-8"),
            sha256=hashlib.sha256(content).hexdigest(),
        )
        session.add(row)
        stored[name] = row
    session.flush()

    result = []
    for process in analysis.processes:
        latest = latest_definition(session, process.key)
        if latest is not None and latest.content_hash == process.content_hash:
            result.append(latest)
            continue
        definition = ProcessDefinition(
            key=process.key,
            version=(latest.version + 1) if latest else 1,
            name=process.name,
            name_en=process.name_en,
            content_hash=process.content_hash,
            deployment_id=deployment.id,
            file_id=stored[process.filename].id,
            spec=process.spec,
            called_keys=process.called_keys,
            decision_refs=process.decision_refs,
            start_form_key=process.start_form_key,
            starters=process.starters,
            created_at=now,
        )
        session.add(definition)
        result.append(definition)
    session.flush()
    return deployment, result


def problems_error(problems) -> InvalidDefinition:
    errors: dict[str, list[str]] = {}
    for problem in problems:
        errors.setdefault(problem.file or "files", []).append(problem.as_text())
    error = InvalidDefinition(
        f"流程定义有 {len(problems)} 个问题 (the bundle has {len(problems)} problem(s))", errors
    )
    error.problems = [p.as_dict() for p in problems]
    error.analysed = list(problems)  # the Problems themselves: a page picks one language
    return error


def latest_definition(session: Session, key: str) -> ProcessDefinition | None:
    return session.scalars(
        select(ProcessDefinition)
        .where(ProcessDefinition.key == key)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    ).first()


def latest_definitions(session: Session) -> list[ProcessDefinition]:
    newest = (
        select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
        .group_by(ProcessDefinition.key)
        .subquery()
    )
    return list(
        session.scalars(
            select(ProcessDefinition)
            .join(
                newest,
                (ProcessDefinition.key == newest.c.key)
                & (ProcessDefinition.version == newest.c.version),
            )
            .order_by(ProcessDefinition.key)
        )
    )


def list_definitions(session: Session, all_versions: bool = False) -> list[ProcessDefinition]:
    if not all_versions:
        return latest_definitions(session)
    return list(
        session.scalars(
            select(ProcessDefinition).order_by(ProcessDefinition.key, ProcessDefinition.version)
        )
    )


def get_definition(session: Session, key: str, version: int | None = None) -> ProcessDefinition:
    if version is None:
        definition = latest_definition(session, key)
    else:
        definition = session.scalars(
            select(ProcessDefinition).where(
                ProcessDefinition.key == key, ProcessDefinition.version == version
            )
        ).first()
    if definition is None:
        raise NotFound(f"流程定义 {key} 不存在 (no such definition)")
    return definition


def start_form(definition: ProcessDefinition) -> dict | None:
    if not definition.start_form_key:
        return None
    schema = forms.load_form(definition.start_form_key)
    return {"key": definition.start_form_key, "schema": schema, "ui": schema.get("x-ui", {})}
