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

    from . import migrate
    from .api import init_api
    from .clock import system_clock
    from .db import Database
    from .settings import Settings

    config = dict(config or {})
    settings = Settings.from_env(
        **{field: config[key] for key, field in _SETTINGS_KEYS.items() if key in config}
    )
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # Room for multipart framing around the largest allowed file.
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + 64 * 1024,
        JSON_AS_ASCII=False,
    )
    app.config.update({key: value for key, value in config.items() if key != "CLOCK"})

    database = Database(settings.database_url)
    if database.is_sqlite and migrate.needs_upgrade(database):
        migrate.upgrade(database)
    app.extensions["pazhou"] = {
        "settings": settings,
        "db": database,
        "clock": config.get("CLOCK", system_clock),
    }
    init_api(app)
    return app
