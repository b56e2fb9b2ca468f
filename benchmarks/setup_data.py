"""Shared benchmark plumbing: databases, seed data, a real HTTP server, a thin HTTP client.

Nothing here measures anything; the figure modules do.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
PG_ADMIN_URL = os.environ.get(
    "PAZHOU_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "bench-password-123"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def shipped_process_files() -> list[Path]:
    """The procedures the product ships: every BPMN and DMN file in processes/."""
    processes = ROOT / "processes"
    return sorted([*processes.glob("*.bpmn"), *processes.glob("*.dmn")])


# -- statistics --------------------------------------------------------------------------------


def median(values) -> float:
    return statistics.median(values)


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


# -- databases ---------------------------------------------------------------------------------


@contextmanager
def sqlite_url(prefix: str = "bench") -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix=f"pazhou-{prefix}-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'pazhou.sqlite3'}"


def postgres_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@contextmanager
def postgres_url(prefix: str = "bench") -> Iterator[str]:
    name = f"pazhou_{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def database_url(backend: str, prefix: str = "bench") -> Iterator[str]:
    manager = sqlite_url(prefix) if backend == "sqlite" else postgres_url(prefix)
    with manager as url:
        yield url


# -- seed data ---------------------------------------------------------------------------------


@dataclass
class Seed:
    url: str
    enterprise_id: int
    users: dict[str, str]  # label -> username
    enterprise_uscc: str = ""


def _uscc() -> str:
    import forms

    first17 = "9144010" + "".join(
        secrets.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(10)
    )
    return first17 + forms.uscc_check_char(first17)


def seed(
    url: str, fixtures=("rectification_loop.bpmn", "parallel_review.bpmn"), shipped: bool = False
) -> Seed:
    """Migrate, seed departments, one enterprise, an admin/analyst/officers, deploy fixtures
    (and with ``shipped`` every BPMN and DMN file of processes/)."""
    from engine import migrate
    from engine.db import Database
    from engine.services import deployments, users
    from engine.services.actors import Actor

    db = Database(url)
    migrate.upgrade(db)
    names = {
        "admin": ("bench.admin", "admin", None),
        "quality_safety": ("bench.qs", "officer", "quality_safety"),
        "fire": ("bench.fire", "officer", "fire"),
        "civil_defense": ("bench.cd", "officer", "civil_defense"),
    }
    with db.write() as session:
        users.seed_departments(session)
        enterprise = users.create_enterprise(session, "琶洲基准测试有限公司", _uscc(), now=NOW)
        for username, role, department in names.values():
            users.create_user(session, username, PASSWORD, role, department, now=NOW)
        users.create_user(
            session, "bench.ent", PASSWORD, "enterprise", None, enterprise.id, now=NOW
        )
        files = [(name, fixture_bytes(name)) for name in fixtures]
        if shipped:
            files += [(path.name, path.read_bytes()) for path in shipped_process_files()]
        deployments.deploy_bundle(session, Actor("bench", "analyst"), files, NOW, 10**7)
        enterprise_id, uscc = enterprise.id, enterprise.uscc
    db.dispose()
    labels = {label: value[0] for label, value in names.items()}
    labels["enterprise"] = "bench.ent"
    return Seed(url, enterprise_id, labels, uscc)


# -- a real server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`gunicorn engine.wsgi:app` (sync workers) in a subprocess on 127.0.0.1."""

    def __init__(
        self, url: str, workers: int = 1, instance: str | None = None, cpus: set | None = None
    ):
        self.url = url
        self.workers = workers
        self.cpus = cpus  # pin the server (and the workers it forks) to these CPUs
        self.port = free_port()
        self.instance = instance or tempfile.mkdtemp(prefix="pazhou-bench-instance-")
        self.proc: subprocess.Popen | None = None
        self.log_path = Path(self.instance) / f"gunicorn-{self.port}.log"
        self.log = None

    def __enter__(self) -> Server:
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in __exit__
        env = {
            **os.environ,
            "PAZHOU_DATABASE_URL": self.url,
            "PAZHOU_INSTANCE_PATH": self.instance,
            "PYTHONPATH": str(ROOT),
        }
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(self.workers),
                "--worker-class",
                "sync",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "120",
                "--log-level",
                "warning",
                "engine.wsgi:app",
            ],
            env=env,
            cwd=str(ROOT),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=(lambda: os.sched_setaffinity(0, self.cpus)) if self.cpus else None,
        )
        try:
            wait_healthy(self.port, self.proc)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.log is not None:
            self.log.close()


def wait_healthy(port: int, proc: subprocess.Popen | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            status, _ = Client(port).request("GET", "/api/v1/health", timeout=5)
            if status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not become healthy")


class Client:
    """http.client with a bearer token: as little client-side work per request as possible."""

    def __init__(self, port: int, token: str | None = None):
        self.port = port
        self.token = token

    def request(self, method: str, path: str, body=None, timeout: float = 120):
        headers = {"Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = raw.decode(errors="replace")
        return response.status, data

    def post(self, path: str, body=None):
        return self.request("POST", path, body if body is not None else {})

    def get(self, path: str):
        return self.request("GET", path)


def login(port: int, username: str) -> Client:
    status, body = Client(port).post(
        "/api/v1/auth/token", {"username": username, "password": PASSWORD}
    )
    if status != 201:
        raise RuntimeError(f"login {username}: {status} {body}")
    return Client(port, body["token"])
