"""Engine and session setup: SQLite pragmas and BEGIN IMMEDIATE for writers, Postgres options."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

WRITE_OPTION = "pazhou_write"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below issue BEGIN so writers can ask for IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL survives a killed process (the WAL is written before COMMIT returns);
        # only an OS crash or power loss could lose the last commits.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        immediate = conn.get_execution_options().get(WRITE_OPTION)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def writer_holds_database(session: Session) -> bool:
    """True where a write session holds the whole database from its first statement (SQLite's
    BEGIN IMMEDIATE), so every row it reads is current and row locks add nothing."""
    return session.get_bind().dialect.name == "sqlite"


def serialize(session: Session, name: str) -> None:
    """Hold a transaction-scoped lock named ``name`` until COMMIT (PostgreSQL advisory lock):
    for rare writes that read before they decide (the next version number, a year's rows).
    SQLite writers already hold the whole database."""
    if not writer_holds_database(session):
        session.execute(_EXCLUSIVE, {"name": name})


def share(session: Session, name: str) -> None:
    """Hold ``name`` shared until COMMIT: any number of transactions at once, none while one
    holds it through ``serialize`` (PostgreSQL; SQLite writers hold the whole database).
    Asked for once per transaction, however many paths of one step ask."""
    if writer_holds_database(session):
        return
    # A savepoint rolled back releases what was taken inside it: held per (nested) transaction.
    held = session.info.setdefault("shared_locks", {})
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None or held.get(name) is not transaction:
        session.execute(_SHARED, {"name": name})
        held[name] = session.get_nested_transaction() or session.get_transaction()


_EXCLUSIVE = text("SELECT pg_advisory_xact_lock(hashtext(:name))")
_SHARED = text("SELECT pg_advisory_xact_lock_shared(hashtext(:name))")


class Database:
    """One database: a read session factory and a write session factory."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 5):
        self.url = url
        kwargs: dict = {"echo": echo, "future": True}
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs.update(pool_size=pool_size, max_overflow=10, pool_pre_ping=True)
        self.engine = create_engine(url, **kwargs)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        write_engine = self.engine.execution_options(**{WRITE_OPTION: True})
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(write_engine, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A unit of work: commits when the block ends normally, rolls back otherwise."""
        with self._write() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
