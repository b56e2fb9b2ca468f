"""Tokens and the caller: POST /auth/token, GET /me."""

from __future__ import annotations

from datetime import timedelta

from flask_smorest import Blueprint

from ..errors import Unauthorized
from ..models import User
from ..services import users
from .context import current_actor, database, now, settings
from .errors import documents
from .schemas.auth import LoginSchema, TokenSchema, UserSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="登录与当前用户 Authentication")


def user_payload(user: User) -> dict:
    enterprise = user.enterprise
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "department": user.department_code,
        "enterprise": {"id": enterprise.id, "name": enterprise.name, "uscc": enterprise.uscc}
        if enterprise
        else None,
    }


@blp.route("/auth/token", methods=["POST"])
@blp.doc(security=[])
@blp.arguments(LoginSchema)
@blp.response(201, TokenSchema)
@documents(blp, 400, 401)
def issue_token(body):
    """Exchange a username and password for a bearer token."""
    at = now()
    ttl = timedelta(hours=settings().token_ttl_hours)
    with database().write() as session:
        token, user = users.authenticate(session, body["username"], body["password"], at, ttl)
        return {
            "token": token,
            "token_type": "Bearer",
            "expires_at": at + ttl,
            "user": user_payload(user),
        }


@blp.route("/me")
@blp.response(200, UserSchema)
@documents(blp, 401)
def me():
    """The caller, with role, department and enterprise."""
    actor = current_actor()
    with database().read() as session:
        user = session.get(User, actor.user_id)
        if user is None:
            raise Unauthorized()
        return user_payload(user)
