"""The `pazhou` console script, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text, update

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


def test_cli_starts_a_case_with_the_files_of_its_start_form(tmp_path):
    ledger = Path(__file__).resolve().parents[2] / "processes" / "coordination_ledger.bpmn"
    assert pazhou(tmp_path, "db", "upgrade").returncode == 0
    assert pazhou(tmp_path, "deploy", str(ledger)).returncode == 0
    plan = tmp_path / "现场照片.pdf"
    plan.write_bytes(b"%PDF-1.4\n% site photos\n%%EOF\n")
    data = {
        "project_code": "2024-440105-47-01-123456",
        "project_name": "琶洲命令行项目",
        "contact_name": "张三",
        "contact_phone": "13800138000",
        "category": "供水",
        "description": "临时供水未接通",
    }
    args = ["cases", "start", "coordination_ledger", "--data", json.dumps(data)]

    made_up = pazhou(tmp_path, *args[:-1], json.dumps({**data, "attachments": ["made-up"]}))
    assert made_up.returncode == 2 and "attachments" in made_up.stderr

    started = pazhou(
        tmp_path, *args, "--file", f"attachments={plan}", "--file", f"attachments={plan}"
    )
    assert started.returncode == 0, started.stderr

    db = Database(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    with db.read() as session:
        stored = session.execute(text("SELECT id, filename FROM attachment")).all()
        state = session.scalar(text("SELECT data FROM case_state"))
    db.dispose()
    assert [name for _, name in stored] == ["现场照片.pdf", "现场照片.pdf"]
    assert json.loads(state)["attachments"] == [row_id for row_id, _ in stored]

    missing = pazhou(tmp_path, *args, "--file", f"attachments={tmp_path / 'nope.pdf'}")
    assert missing.returncode == 2 and "nope.pdf" in missing.stderr
