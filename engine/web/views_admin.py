"""Admin pages: users and departments."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from ..errors import Conflict, InvalidInput
from ..models import Enterprise
from ..services import users
from . import bp
from .context import database, now
from .i18n import gettext as _
from .session_auth import current_actor, roles


def _render(errors: dict | None = None, values: dict | None = None, status: int = 200):
    with database().read() as session:
        return render_template(
            "admin_users.html",
            users=users.list_users(session, current_actor()),
            departments=users.list_departments(session),
            enterprises=list(session.scalars(select(Enterprise).order_by(Enterprise.name))),
            errors=errors or {},
            values=values or {},
        ), status


@bp.route("/admin/users")
@roles("admin")
def admin_users():
    return _render()


@bp.route("/admin/users", methods=["POST"])
@roles("admin")
def admin_create_user():
    form = request.form
    enterprise = form.get("enterprise_id") or None
    try:
        with database().write() as session:
            users.create_user(
                session,
                form.get("username", ""),
                form.get("password", ""),
                form.get("role", ""),
                form.get("department") or None,
                int(enterprise) if enterprise and enterprise.isdigit() else None,
                display_name=form.get("display_name", ""),
                now=now(),
            )
    except InvalidInput as exc:
        return _render(exc.errors, form, 422)
    except Conflict as exc:
        return _render({"username": [exc.detail]}, form, 409)
    flash(_("用户已创建"), "success")
    return redirect(url_for("web.admin_users"))
