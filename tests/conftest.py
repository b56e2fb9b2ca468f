"""Shared fixtures: a database created and dropped per test, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from engine import migrate
from engine.db import Database

FIXTURES = Path(__file__).parent / "fixtures"
PG_ADMIN_URL = os.environ.get(
    "PAZHOU_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("PAZHOU_REQUIRE_POSTGRES") == "1"


def _postgres_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


_PG = None


def postgres_available() -> bool:
    global _PG
    if _PG is None:
        _PG = _postgres_available()
    return _PG


def skip_or_fail_postgres():
    if REQUIRE_POSTGRES:
        pytest.fail("PostgreSQL is required (PAZHOU_REQUIRE_POSTGRES=1) but not reachable")
    pytest.skip("PostgreSQL not reachable")


def create_pg_database() -> tuple[str, callable]:
    if not postgres_available():
        skip_or_fail_postgres()
    name = f"pazhou_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    """A fresh, empty database URL on each backend; dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pazhou.sqlite3'}"
        return
    url, drop = create_pg_database()
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def db(database_url) -> Database:
    database = Database(database_url)
    migrate.upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(tmp_path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'pazhou.sqlite3'}")
    migrate.upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def pg_db():
    url, drop = create_pg_database()
    database = Database(url)
    migrate.upgrade(database)
    try:
        yield database
    finally:
        database.dispose()
        drop()


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()
