"""Login, logout and the current actor for pages: a users-service token in the session cookie.

Every POST carries a CSRF token (form field `csrf_token` or header `X-CSRF-Token`).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from functools import wraps
from urllib.parse import urlparse

from flask import (
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from ..errors import Forbidden, Unauthorized
from ..services import users
from ..services.actors import Actor
from . import bp
from .context import database, now, settings
from .i18n import gettext as _

PUBLIC_ENDPOINTS = frozenset({"web.login", "web.static"})
HOME_BY_ROLE = {
    "officer": "web.inbox",
    "enterprise": "web.cases",
    "analyst": "web.modeler",
    "admin": "web.admin_users",
}


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return token


def init_session(app) -> None:
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.jinja_env.globals["csrf_token"] = csrf_token


@bp.before_request
def load_actor() -> None:
    load_web_user()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if g.web_user is None:
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    if request.method == "POST":
        sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token")
        if not sent or not secrets.compare_digest(sent, session.get("csrf", "")):
            abort(400, "CSRF token missing or wrong")
    return None


def load_web_user() -> None:
    """``g.web_user`` (and ``g.actor``) from the session's token; None when not logged in."""
    g.web_user = None
    token = session.get("token")
    if token:
        with database().read() as db_session:
            try:
                user = users.user_for_token(db_session, token, now())
            except Unauthorized:
                session.pop("token", None)
            else:
                g.actor = Actor.from_user(user)
                g.web_user = {
                    "username": user.username,
                    "display_name": user.display_name or user.username,
                    "role": user.role,
                    "department": user.department_code,
                    "enterprise": user.enterprise.name if user.enterprise else None,
                }


def current_actor() -> Actor:
    actor = g.get("actor")
    if actor is None:
        raise Unauthorized()
    return actor


def roles(*allowed: str):
    """Only these roles may open the page (the services check again what they do)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if current_actor().role not in allowed:
                raise Forbidden(_("无权访问"))
            return view(*args, **kwargs)

        return wrapper

    return decorator


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        at = now()
        ttl = timedelta(hours=settings().token_ttl_hours)
        try:
            with database().write() as db_session:
                token, user = users.authenticate(
                    db_session,
                    request.form.get("username", ""),
                    request.form.get("password", ""),
                    at,
                    ttl,
                )
                role = user.role
        except Unauthorized:
            error = _("用户名或密码错误")
        else:
            session.clear()
            session["token"] = token
            session.permanent = True
            target = _safe_next(request.args.get("next")) or url_for(HOME_BY_ROLE[role])
            return redirect(target)
    return render_template("login.html", error=error), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
def logout():
    token = session.get("token")
    if token:
        with database().write() as db_session:
            users.revoke_token(db_session, token)
    session.clear()
    flash(_("您已退出登录"), "info")
    return redirect(url_for("web.login"))


@bp.route("/")
def home():
    return redirect(url_for(HOME_BY_ROLE.get(current_actor().role, "web.cases")))
