"""URL converters shared by the API and the web pages."""

from __future__ import annotations

from werkzeug.routing import BaseConverter


class SafeStringConverter(BaseConverter):
    """A path segment PostgreSQL can compare: no NUL, at most 100 characters."""

    regex = r"[^/\x00]{1,100}"


def register_converters(app) -> None:
    """`<ref:…>` in a route: a case id or case number (HZ-2026-000123)."""
    app.url_map.converters["ref"] = SafeStringConverter
