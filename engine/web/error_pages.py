"""Domain errors and HTTP errors on pages: an HTML page, or JSON for the page's fetch() calls.

Addresses no route matches (a mistyped `/inbox/`, `/tasks/abc`) are not the web blueprint's:
the app-wide handler (engine.api.errors) hands those outside /api/ to :func:`unmatched_page`.
"""

from __future__ import annotations

from flask import current_app, make_response, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge

from ..errors import PazhouError, Unauthorized
from . import bp
from .context import settings
from .i18n import gettext as _
from .session_auth import load_web_user


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _megabytes(size: int) -> str:
    return f"{round(size / (1024 * 1024), 1):g}"


def _form_page() -> str | None:
    """After a refused POST, the page its form came from: the same URL, if it answers GET."""
    if request.method != "POST":
        return None
    try:
        current_app.url_map.bind_to_environ(request.environ).match(method="GET")
    except HTTPException:
        return None
    return request.script_root + request.path


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
    title, detail, back = error.name, error.description, None
    if isinstance(error, NotFound):
        title = _("页面不存在")
        detail = _("您访问的地址不存在，请检查网址，或从上方菜单进入。")
    elif isinstance(error, MethodNotAllowed):
        title = _("不支持此操作")
        detail = _("此页面不支持这种请求方式，请从页面上的按钮或链接操作。")
    elif isinstance(error, RequestEntityTooLarge):
        # Refused before the body is read: the form is lost, so say what fits and lead back.
        title = _("提交的内容过大")
        detail = _(
            "一次提交最多 %(total)s MB，每个文件最多 %(each)s MB。请删减或压缩文件后重新提交。",
            total=_megabytes(request.max_content_length or 0),
            each=_megabytes(settings().max_upload_bytes),
        )
        back = _form_page()
    if _wants_json():
        return {"title": title, "detail": detail}, error.code
    return render_template(
        "error.html", status=error.code, title=title, detail=detail, back=back
    ), error.code


def unmatched_page(error: HTTPException):
    """The web error page for an address outside /api/ that no route matches (404, or 405
    for a method the page does not take), with the menu of the logged-in user if any."""
    load_web_user()
    response = make_response(http_error(error))
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response
