"""The `pazhou` console script, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import update

from engine.db import Database
from engine.models import Event

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def pazhou(tmp_path, *args):
    env = dict(os.environ)
    env["PAZHOU_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    env["PAZHOU_INSTANCE_PATH"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_cli_deploys_starts_lists_and_verifies(tmp_path):
    assert pazhou(tmp_path, "db", "upgrade").returncode == 0
    deployed = pazhou(tmp_path, "deploy", str(FIXTURES / "parallel_review.bpmn"))
    assert deployed.returncode == 0, deployed.stderr
    assert "parallel_review\tv1" in deployed.stdout

    started = pazhou(
        tmp_path,
        "cases",
        "start",
        "parallel_review",
        "--project-name",
        "命令行项目",
        "--data",
        json.dumps({"a": 1}),
    )
    assert started.returncode == 0, started.stderr
    case_number = started.stdout.split("\t")[0]
    assert case_number.startswith("HZ-")

    inbox = pazhou(tmp_path, "tasks", "list", "--department", "fire")
    assert inbox.returncode == 0
    lines = inbox.stdout.strip().splitlines()
    assert len(lines) == 1 and "消防审查" in lines[0] and case_number in lines[0]

    verified = pazhou(tmp_path, "audit", "verify", case_number)
    assert verified.returncode == 0 and "intact" in verified.stdout

    db = Database(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    with db.write() as session:
        session.execute(update(Event).where(Event.seq == 1).values(payload={"forged": True}))
    db.dispose()
    tampered = pazhou(tmp_path, "audit", "verify", case_number)
    assert tampered.returncode == 1 and "broken at event 1" in tampered.stderr


def test_cli_reports_invalid_bundles_and_bad_json_without_a_traceback(tmp_path):
    bad = tmp_path / "bad.bpmn"
    bad.write_bytes(
        (FIXTURES / "parallel_review.bpmn").read_bytes().replace(b'name="fire"', b'name="nobody"')
    )
    result = pazhou(tmp_path, "deploy", str(bad))
    assert result.returncode == 2
    assert "Task_fire_review" in result.stderr and "Traceback" not in result.stderr

    result = pazhou(tmp_path, "cases", "start", "parallel_review", "--data", "{not json")
    assert result.returncode == 2 and "Traceback" not in result.stderr
