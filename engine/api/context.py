"""Per-request context: the app's database, settings and clock, and who is calling.

Authentication happens here and only here: `authenticate` runs before every /api/v1 request
and views read the caller with `current_actor()`.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app, g, request

from ..db import Database
from ..errors import Unauthorized
from ..services import users
from ..services.actors import Actor
from ..settings import Settings

API_PREFIX = "/api/v1/"
# Endpoints anyone may call without a token.
PUBLIC_ENDPOINTS = frozenset(
    {"health.health", "auth.issue_token", "api-docs.openapi_json", "hooks.receive"}
)


def _state() -> dict:
    return current_app.extensions["pazhou"]


def database() -> Database:
    return _state()["db"]


def settings() -> Settings:
    return _state()["settings"]


def now() -> datetime:
    return _state()["clock"].now()


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate() -> None:
    """before_request: resolve the bearer token of every non-public /api/v1 call (401 otherwise)."""
    if not request.path.startswith(API_PREFIX) or request.endpoint in PUBLIC_ENDPOINTS:
        return
    if request.routing_exception is not None or request.method == "OPTIONS":
        return  # let 404/405 speak for themselves
    token = bearer_token()
    if token is None:
        raise Unauthorized("缺少访问令牌 (missing Authorization: Bearer token)")
    with database().read() as session:
        g.actor = users.actor_for_token(session, token, now())


def current_actor() -> Actor:
    actor = g.get("actor")
    if actor is None:
        raise Unauthorized("未认证 (not authenticated)")
    return actor
