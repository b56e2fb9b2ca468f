"""Departments and users: GET /departments, GET /users."""

from __future__ import annotations

from flask_smorest import Blueprint

from ..services import users
from .auth import user_payload
from .context import current_actor, database
from .errors import documents
from .schemas.directory import DepartmentListSchema, UserListArgsSchema, UserListSchema

blp = Blueprint(
    "directory", __name__, url_prefix="/api/v1", description="部门与用户 Departments and users"
)


@blp.route("/departments")
@blp.response(200, DepartmentListSchema)
@documents(blp, 401)
def list_departments():
    """Every department (codes are what lanes and tasks name)."""
    current_actor()
    with database().read() as session:
        rows = users.list_departments(session)
        items = [{"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en} for d in rows]
    return {"items": items, "next_cursor": None}


@blp.route("/users")
@blp.arguments(UserListArgsSchema, location="query")
@blp.response(200, UserListSchema)
@documents(blp, 401, 403)
def list_users(args):
    """Active users, optionally of one department (admins and officers)."""
    with database().read() as session:
        rows = users.list_users(session, current_actor(), args["department"])
        return {"items": [user_payload(u) for u in rows], "next_cursor": None}
