"""Pazhou Flow: a BPMN workflow engine for staged construction approvals."""

from __future__ import annotations

# Flask config keys that map onto engine.settings.Settings fields.
_SETTINGS_KEYS = {
    "DATABASE_URL": "database_url",
    "SECRET_KEY": "secret_key",
    "INSTANCE_PATH": "instance_path",
    "TOKEN_TTL_HOURS": "token_ttl_hours",
    "MAX_UPLOAD_BYTES": "max_upload_bytes",
    "MAX_BPMN_BYTES": "max_bpmn_bytes",
}


def create_app(config: dict | None = None):
    """Build the WSGI app; `config` overrides the environment (e.g. DATABASE_URL, CLOCK)."""
    from flask import Flask
    from sqlalchemy.exc import SQLAlchemyError

    from . import http_files, migrate, routing, worker
    from .api import init_api
    from .clock import system_clock
    from .db import Database
    from .services import calendar_admin
    from .settings import Settings
    from .web import init_web

    config = dict(config or {})
    settings = Settings.from_env(
        **{field: config[key] for key, field in _SETTINGS_KEYS.items() if key in config}
    )
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # One file of the largest allowed size; views marked with
        # http_files.several_files_allowed take several.
        MAX_CONTENT_LENGTH=http_files.default_max_content_length(settings.max_upload_bytes),
    )
    app.config.update({key: value for key, value in config.items() if key != "CLOCK"})
    app.json.ensure_ascii = False

    database = Database(settings.database_url)
    if database.is_sqlite:
        # The embedded database keeps itself current; PostgreSQL is upgraded by `pazhou db upgrade`.
        migrate.upgrade(database)
    app.extensions["pazhou"] = {
        "settings": settings,
        "db": database,
        "clock": config.get("CLOCK", system_clock),
    }
    try:
        with database.read() as session:
            calendar_admin.refresh_default_calendar(session)
    except SQLAlchemyError:  # a PostgreSQL database not upgraded yet: /health will say so
        app.logger.warning("calendar not loaded: run `pazhou db upgrade`")
    if config.get("EMBEDDED_WORKER") or settings.embedded_worker:
        app.extensions["pazhou"]["worker"] = worker.start_embedded(database, settings)
    # App-wide and registered first: runs before any blueprint's hook can read the body.
    app.before_request(http_files.apply_upload_limits)
    routing.register_converters(app)
    init_api(app)
    init_web(app)
    return app
