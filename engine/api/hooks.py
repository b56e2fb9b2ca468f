"""Inbound webhooks from other platforms (no bearer token: the signature authenticates)."""

from __future__ import annotations

from flask import current_app, request
from flask_smorest import Blueprint

from ..services import inbound
from .context import database, now, settings
from .errors import documents
from .schemas.hooks import InboundAcceptedSchema

blp = Blueprint("hooks", __name__, url_prefix="/api/v1", description="回调 Inbound webhooks")


@blp.route("/hooks/<ref:source>", methods=["POST"])
@blp.doc(security=[])
@blp.response(202, InboundAcceptedSchema)
@documents(blp, 401, 404, 409, 422)
def receive(source):
    """A Standard Webhooks request correlated as a BPMN message (``cim`` ->
    ``bim_model_accepted``) to the case named by ``case_number``; replays are idempotent."""
    secrets = {
        **settings().inbound_secrets,
        **(current_app.config.get("INBOUND_SECRETS") or {}),
    }
    with database().write() as session:
        result = inbound.receive(
            session, source, request.headers, request.get_data(), secrets, now()
        )
        return {
            "case_number": result.case_number,
            "message": result.message,
            "duplicate": result.duplicate,
        }
