"""HTTP API: flask-smorest blueprints, one per resource, under /api/v1."""

from __future__ import annotations

import http

from flask_smorest import Api
from flask_smorest.utils import prepare_response

from ..routing import SafeStringConverter
from .errors import PROBLEM_JSON, register_error_handlers
from .schemas.common import ProblemSchema

API_CONFIG = {
    "API_TITLE": "Pazhou Flow API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "v1/openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": "https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
    "OPENAPI_REDOC_PATH": "redoc",
    "OPENAPI_REDOC_URL": "https://cdn.jsdelivr.net/npm/redoc/bundles/redoc.standalone.js",
}


class PazhouApi(Api):
    ERROR_SCHEMA = ProblemSchema
    # Every endpoint lists its error codes explicitly; no catch-all "default" response.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_responses(self):
        for status in http.HTTPStatus:
            if status < 400:
                continue
            response = {"description": status.phrase, "schema": self.ERROR_SCHEMA}
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)

    def _register_error_handlers(self):
        register_error_handlers(self._app)


def init_api(app) -> None:
    from . import (  # deadlines, events, operations
        auth,
        calendar,
        case_attachments,
        cases,
        context,
        definitions,
        directory,
        health,
        hooks,
        stats,
        tasks,
        webhooks,
    )

    for key, value in API_CONFIG.items():
        app.config.setdefault(key, value)
    api = PazhouApi(
        app,
        spec_kwargs={
            "security": [{"bearerAuth": []}],
            "info": {
                "description": "琶洲工作流 Pazhou Flow: staged construction approvals. Errors are RFC 9457."
            },
        },
    )
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.register_converter(
        SafeStringConverter, lambda converter: {"type": "string", "maxLength": 100}
    )
    app.before_request(context.authenticate)
    del case_attachments  # its routes are on cases.blp, registered with it below
    for module in (
        health,
        auth,
        definitions,
        cases,
        tasks,
        directory,
        webhooks,
        hooks,
        stats,
        calendar,
    ):
        api.register_blueprint(module.blp)
    app.extensions["pazhou"]["api"] = api
