"""One error handler: every 4xx/5xx of the API leaves as RFC 9457 application/problem+json.

A browser address outside /api/ that no route matches is the web UI's: it gets the web
error page (engine.web.error_pages.unmatched_page) instead.
"""

from __future__ import annotations

import http
import re

from flask import current_app, request
from werkzeug.exceptions import HTTPException

from ..errors import PazhouError

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:pazhou:problem:"


def _slug(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def problem_response(
    status: int, title: str, detail: str = "", errors: dict | None = None, **extra
):
    body = {
        "type": extra.pop("type", "about:blank"),
        "title": title,
        "status": status,
        "detail": detail or title,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = current_app.json.response(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    return response


def _flatten(messages, prefix: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow messages -> {"field.path": [message, ...]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            for sub, texts in _flatten(value, path).items():
                flat.setdefault(sub, []).extend(texts)
    elif isinstance(messages, list | tuple) and all(isinstance(m, str) for m in messages):
        flat[prefix or ""] = [str(m) for m in messages]
    elif isinstance(messages, list | tuple):
        for index, value in enumerate(messages):
            for sub, texts in _flatten(
                value, f"{prefix}.{index}" if prefix else str(index)
            ).items():
                flat.setdefault(sub, []).extend(texts)
    else:
        flat[prefix or ""] = [str(messages)]
    return flat


def _request_errors(messages) -> dict[str, list[str]]:
    # webargs keys messages by location ("json", "query", "files"); field paths are what clients need.
    if isinstance(messages, dict):
        merged: dict[str, list[str]] = {}
        for location_messages in messages.values():
            for path, texts in _flatten(location_messages).items():
                merged.setdefault(path or "body", []).extend(texts)
        return merged
    return {"body": [str(messages)]}


def handle_domain_error(error: PazhouError):
    extra = {}
    problems = getattr(error, "problems", None)
    if problems:
        extra["problems"] = problems
    return problem_response(
        error.status,
        error.title,
        error.detail,
        error.errors,
        type=TYPE_PREFIX + _slug(type(error).__name__),
        **extra,
    )


def _is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def _unmatched_web_page(error: HTTPException):
    """A browser address outside /api/ that no route matched (404, or 405 for the method):
    the web UI's error page, when the web UI is installed; None otherwise."""
    if request.url_rule is not None or _is_api_path(request.path):
        return None
    render = current_app.extensions.get("pazhou", {}).get("unmatched_page")
    return render(error) if render is not None else None


def handle_http_exception(error: HTTPException):
    if error.code is None or error.code < 400:
        return error  # redirects (e.g. a missing trailing slash) stay redirects
    page = _unmatched_web_page(error)
    if page is not None:
        return page
    status = error.code
    try:
        title = http.HTTPStatus(status).phrase
    except ValueError:
        title = error.name
    data = getattr(error, "data", None) or {}
    errors = None
    detail = error.description or title
    if "messages" in data:
        errors = _request_errors(data["messages"])
        if status == 400:
            detail = "请求体不是有效的 JSON (the request body is not valid JSON)"
        else:
            title = "请求参数无效 Invalid request"
            detail = "请求参数未通过校验 (the request did not pass validation)"
    elif status == 413:
        detail = "请求体过大 (the request body is too large)"
    elif status == 416:
        detail = "请求的字节范围超出文件 (the requested range is outside the file)"
    response = problem_response(status, title, detail, errors)
    if status == 405 and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    headers = data.get("headers") or {}
    response.headers.update(headers)
    return response


def handle_too_deep(error: RecursionError):
    # json.loads recurses once per nesting level; a hostile body of [[[[…]]]] ends here.
    return problem_response(
        400,
        http.HTTPStatus(400).phrase,
        "请求体嵌套过深或不是有效的 JSON (the request body is nested too deeply)",
        {"body": ["嵌套层级过深 (nested too deeply)"]},
    )


def handle_unexpected(error: Exception):
    current_app.logger.exception("unhandled error", exc_info=error)
    return problem_response(
        500, "服务器内部错误 Internal server error", "服务器内部错误，请稍后再试 (internal error)"
    )


def register_error_handlers(app) -> None:
    app.register_error_handler(PazhouError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(RecursionError, handle_too_deep)
    app.register_error_handler(Exception, handle_unexpected)


def documents(blp, *codes: int):
    """Document the problem responses an endpoint can return (components/responses/<NAME>)."""

    def decorator(func):
        for code in sorted(codes, reverse=True):
            func = blp.alt_response(code, response=http.HTTPStatus(code).name)(func)
        return func

    return decorator
