"""Per-request access to the app's database, settings and clock for the web views."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from ..db import Database
from ..settings import Settings


def database() -> Database:
    return current_app.extensions["pazhou"]["db"]


def settings() -> Settings:
    return current_app.extensions["pazhou"]["settings"]


def now() -> datetime:
    return current_app.extensions["pazhou"]["clock"].now()
