"""A seeded Pazhou Flow app served on 127.0.0.1 in a thread, and the test data helpers.

Used by the browser tests (tests/e2e/conftest.py) and by the screenshot script.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from pathlib import Path

from werkzeug.serving import make_server

import forms
from engine import create_app
from engine.clock import FixedClock
from engine.services import cases, deployments, tasks, users
from engine.services.actors import SYSTEM, Actor
from tests.conftest import fixture_bytes

CHROMIUM = os.environ.get("PAZHOU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PASSWORD = "e2e-password-123"
PROCESS_KEY = "web_review"
PROCESS_FILE = "web_review.bpmn"
# A Monday morning in Guangzhou; the clock stands still so SLA badges are reproducible.
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
_serial = count(1)
VALID_DATA = {
    "Task_fire_review": {
        "result": "pass",
        "opinion_no": "穗消审字〔2026〕001号",
        "opinion_date": "2026-03-02",
    },
    "Task_civil_defense_review": {
        "area_meets_requirement": True,
        "grade_meets_requirement": True,
        "result": "pass",
        "opinion_no": "穗人防审〔2026〕001号",
    },
}


def valid_uscc() -> str:
    first17 = "9144010" + "".join(
        secrets.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(10)
    )
    return first17 + forms.uscc_check_char(first17)


@dataclass
class World:
    """The running server and the test data made through the services."""

    app: object
    base_url: str
    enterprises: dict[str, int] = field(default_factory=dict)

    @property
    def db(self):
        return self.app.extensions["pazhou"]["db"]

    def url(self, path: str) -> str:
        return self.base_url + path

    def start_case(
        self, enterprise: str, project_name: str | None = None, at: datetime = NOW
    ) -> str:
        """A web_review case (version 1) of the named enterprise; returns its case number."""
        enterprise_id = self.enterprises[enterprise]
        actor = Actor(f"{enterprise}.user", "enterprise", enterprise_id=enterprise_id)
        name = project_name or f"琶洲测试项目{next(_serial)}号楼"
        with self.db.write() as session:
            case = cases.start_case(session, actor, PROCESS_KEY, name, {}, at, version=1)
            return case.case_number

    def open_task_id(self, case_number: str, element_id: str) -> int:
        with self.db.read() as session:
            case = cases.get_case(session, SYSTEM, case_number)
            return next(t.id for t in cases.open_tasks(session, case) if t.element_id == element_id)

    def complete(self, case_number: str, element_id: str) -> None:
        """Complete a task with valid data, as its department would."""
        task_id = self.open_task_id(case_number, element_id)
        with self.db.write() as session:
            tasks.complete(session, SYSTEM, task_id, VALID_DATA[element_id], NOW)

    def stage_of(self, case_number: str) -> str | None:
        with self.db.read() as session:
            return cases.get_case(session, SYSTEM, case_number).stage


def _seed(app) -> dict[str, int]:
    database = app.extensions["pazhou"]["db"]
    with database.write() as session:
        users.seed_departments(session)
        for username, role, department in (
            ("fire.officer", "officer", "fire"),
            ("cd.officer", "officer", "civil_defense"),
            ("analyst", "analyst", None),
            ("admin", "admin", None),
        ):
            users.create_user(session, username, PASSWORD, role, department, now=NOW)
        enterprises = {}
        for key, name in (("ent.a", "广州琶洲数字科技有限公司"), ("ent.b", "海珠建设发展有限公司")):
            enterprise = users.create_enterprise(session, name, valid_uscc(), now=NOW)
            users.create_user(
                session, key, PASSWORD, "enterprise", enterprise_id=enterprise.id, display_name=name
            )
            enterprises[key] = enterprise.id
        deployments.deploy_bundle(
            session, SYSTEM, [(PROCESS_FILE, fixture_bytes(PROCESS_FILE))], NOW, 5 * 1024 * 1024
        )
    return enterprises


def make_app(folder: Path):
    return create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'pazhou.sqlite3'}",
            "SECRET_KEY": secrets.token_hex(16),
            "INSTANCE_PATH": str(folder),
            "CLOCK": FixedClock(NOW),
        }
    )


@contextmanager
def serve(folder: Path):
    """The seeded app on 127.0.0.1 and a free port, in a thread, for as long as the block runs."""
    app = make_app(folder)
    enterprises = _seed(app)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield World(app, f"http://127.0.0.1:{server.server_port}", enterprises)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        app.extensions["pazhou"]["db"].dispose()


def login(page, world: World, username: str) -> None:
    page.goto(world.url("/login"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("domcontentloaded")
