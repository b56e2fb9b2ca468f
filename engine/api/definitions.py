"""Process definitions: deploy, validate, list, read, fetch the XML."""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath

from flask import Response, request
from flask_smorest import Blueprint

from ..errors import Forbidden, InvalidDefinition
from ..models import ProcessDefinition
from ..services import deployments
from .context import current_actor, database, now, settings
from .errors import documents
from .schemas.definitions import (
    BundleUploadSchema,
    DefinitionListArgsSchema,
    DefinitionListSchema,
    DefinitionSchema,
    DeploymentSchema,
    ValidationSchema,
)

blp = Blueprint(
    "definitions", __name__, url_prefix="/api/v1", description="流程定义 Process definitions"
)


def definition_payload(definition: ProcessDefinition, with_form: bool = False) -> dict:
    payload = {
        "key": definition.key,
        "version": definition.version,
        "name": definition.name,
        "name_en": definition.name_en,
        "deployment_id": definition.deployment_id,
        "created_at": definition.created_at,
        "filename": definition.file.filename,
        "start_form_key": definition.start_form_key,
        "starters": definition.starters,
    }
    if with_form:
        payload["start_form"] = deployments.start_form(definition)
    return payload


def _uploaded_files() -> list[tuple[str, bytes]]:
    uploads = request.files.getlist("files[]") + request.files.getlist("files")
    files = []
    for upload in uploads:
        name = PureWindowsPath(PurePosixPath(upload.filename or "").name).name or "upload.bpmn"
        files.append((name, upload.read()))
    if not files:
        raise InvalidDefinition(
            "没有上传文件 (no files)", {"files[]": ["至少上传一个 .bpmn 或 .dmn 文件"]}
        )
    return files


def _require_modeler() -> None:
    # Checked before reading the body, so a 403 never costs a parse.
    if current_actor().role not in ("analyst", "admin"):
        raise Forbidden("只有分析员和管理员可以部署流程 (analysts and admins only)")


@blp.route("/definitions", methods=["POST"])
@blp.arguments(BundleUploadSchema, location="files")
@blp.response(201, DeploymentSchema)
@documents(blp, 401, 403, 413, 422)
def deploy(_args):
    """Deploy a bundle of .bpmn/.dmn files; unchanged processes keep their version."""
    _require_modeler()
    files = _uploaded_files()
    with database().write() as session:
        deployment, definitions = deployments.deploy_bundle(
            session, current_actor(), files, now(), settings().max_bpmn_bytes
        )
        return {
            "deployment_id": deployment.id,
            "definitions": [
                {"key": d.key, "version": d.version, "name": d.name, "name_en": d.name_en}
                for d in definitions
            ],
        }


@blp.route("/definitions/validate", methods=["POST"])
@blp.arguments(BundleUploadSchema, location="files")
@blp.response(200, ValidationSchema)
@documents(blp, 401, 403, 413, 422)
def validate(_args):
    """Check a bundle and report every problem; deploys nothing."""
    _require_modeler()
    files = _uploaded_files()
    with database().read() as session:
        analysis = deployments.validate_bundle(
            session, current_actor(), files, settings().max_bpmn_bytes
        )
    return {"valid": analysis.valid, "problems": [p.as_dict() for p in analysis.problems]}


@blp.route("/definitions")
@blp.arguments(DefinitionListArgsSchema, location="query")
@blp.response(200, DefinitionListSchema)
@documents(blp, 401)
def list_definitions(args):
    """The latest version of each process (every version with all_versions=true)."""
    current_actor()
    with database().read() as session:
        rows = deployments.list_definitions(session, args["all_versions"])
        return {"items": [definition_payload(d) for d in rows], "next_cursor": None}


@blp.route("/definitions/<ref:key>")
@blp.response(200, DefinitionSchema)
@documents(blp, 401, 404)
def get_latest(key):
    """The latest version, with the start form a client needs to start a case."""
    current_actor()
    with database().read() as session:
        return definition_payload(deployments.get_definition(session, key), with_form=True)


@blp.route("/definitions/<ref:key>/versions/<int(max=2147483647):version>")
@blp.response(200, DefinitionSchema)
@documents(blp, 401, 404)
def get_version(key, version):
    current_actor()
    with database().read() as session:
        return definition_payload(deployments.get_definition(session, key, version), with_form=True)


@blp.route("/definitions/<ref:key>/versions/<int(max=2147483647):version>/xml")
@blp.response(
    200, {"type": "string"}, content_type="application/xml", description="The BPMN XML as deployed"
)
@documents(blp, 401, 404)
def get_xml(key, version):
    current_actor()
    with database().read() as session:
        definition = deployments.get_definition(session, key, version)
        xml = definition.file.content
    return Response(xml, mimetype="application/xml")
