"""Domain errors and HTTP errors on pages: an HTML page, or JSON for the page's fetch() calls."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from ..errors import PazhouError, Unauthorized
from . import bp


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


@bp.errorhandler(PazhouError)
def domain_error(error: PazhouError):
    if isinstance(error, Unauthorized):
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    if _wants_json():
        body = {"title": error.title, "detail": error.detail, "errors": error.errors}
        if getattr(error, "problems", None):
            body["problems"] = error.problems
        return body, error.status
    return render_template(
        "error.html", status=error.status, title=error.title, detail=error.detail
    ), error.status


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    if _wants_json():
        return {"title": error.name, "detail": error.description}, error.code
    return render_template(
        "error.html", status=error.code, title=error.name, detail=error.description
    ), error.code
