"""The web UI: server-rendered pages for officers, enterprises, analysts and admins, at `/`.

Pages log in with the same users service as the API (the bearer token lives in the signed
session cookie) and call the same services; this package holds no business rule.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)


def init_web(app) -> None:
    """Register the web blueprint, the locale selector and the template helpers."""
    from . import (
        display,
        error_pages,
        i18n,
        session_auth,
        views_admin,
        views_cases,
        views_modeler,
        views_start,
        views_tasks,
        views_webhooks,
    )

    del views_admin, views_cases, views_modeler, views_start, views_tasks  # routes
    del views_webhooks
    i18n.init_i18n(app)
    display.init_filters(app)
    session_auth.init_session(app)
    # Unmatched addresses outside /api/ get the web error page (see engine.api.errors).
    app.extensions["pazhou"]["unmatched_page"] = error_pages.unmatched_page
    app.register_blueprint(bp)
