"""Drive the real processes in ``processes/`` through the service layer.

A :class:`Flow` is one case seen by the people who work on it: the enterprise that applied
and the officers whose inbox (the ``task`` table) receives each step. Every call runs under
a virtual clock (time-machine) that only moves forward, so SpiffWorkflow's timers, the
engine's ``now`` and the form dates agree; ``advance_to`` moves the clock and fires timers.
"""

from __future__ import annotations

import io
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select

import forms
from engine.errors import InvalidInput
from engine.models import Enterprise, Task
from engine.services import attachments, cases, deployments, start_files, steps, tasks
from engine.services.actors import Actor

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
ANALYST = Actor("analyst.modeller", "analyst")
MAX_BYTES = 5 * 1024 * 1024
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
PDF = b"%PDF-1.4\n% pazhou test\n"

USCC = "91350100M000100Y43"
PROJECT_CODE = "2024-440105-47-01-123456"

_serial = itertools.count(1)


def _with_check(first17: str) -> str:
    return first17 + forms.uscc_check_char(first17)


CONTRACTOR_USCC = _with_check("91440101190000001")

HEADER = {
    "project_code": PROJECT_CODE,
    "project_name": "琶洲数字经济总部项目",
    "owner_name": "广州琶洲数字科技有限公司",
    "owner_uscc": USCC,
    "site_address": "广州市海珠区琶洲大道1号",
    "contact_name": "张三",
    "contact_phone": "13800138000",
}


@dataclass(frozen=True)
class File:
    """A file put into start data where its attachment id belongs; the start uploads it."""

    filename: str
    content: bytes = PDF
    content_type: str = "application/pdf"


# The joint completion acceptance's start-form file fields.
JCA_FILE_FIELDS = (
    "survey_report_file",
    "archives_transfer_list",
    "fire_commissioning_report",
    "completion_report_file",
)
# Per file, with @pytest.mark.app_config(MAX_UPLOAD_BYTES=SMALL_UPLOAD_LIMIT), for the tests of
# request sizes: several files at the limit stay small and fast.
SMALL_UPLOAD_LIMIT = 100_000


def padded_pdf(name: str, size: int = SMALL_UPLOAD_LIMIT) -> bytes:
    """A PDF of exactly ``size`` bytes whose content differs by ``name``."""
    head = PDF + name.encode()
    return head + b"%" * (size - len(head))


def pdf(filename: str) -> File:
    return File(filename, PDF + filename.encode() + b"\n%%EOF\n")


def split_files(data: dict) -> tuple[dict, list[tuple[str, File]]]:
    """Start data without its :class:`File` values, and the (field path, file) to upload."""
    files: list[tuple[str, File]] = []

    def strip(value, path: str):
        if isinstance(value, dict):
            kept = {}
            for key, sub in value.items():
                child = f"{path}.{key}" if path else key
                if isinstance(sub, File):
                    files.append((child, sub))
                elif isinstance(sub, list) and any(isinstance(item, File) for item in sub):
                    files.extend((child, item) for item in sub if isinstance(item, File))
                    kept[key] = [item for item in sub if not isinstance(item, File)]
                else:
                    kept[key] = strip(sub, child)
            return kept
        if isinstance(value, list):
            return [strip(item, f"{path}.{index}") for index, item in enumerate(value)]
        return value

    return strip(data, ""), files


def officer(department: str) -> Actor:
    return Actor(f"{department}.officer", "officer", department)


def deploy_processes(db) -> list[tuple[str, int]]:
    """Deploy every BPMN and DMN file of processes/ in one bundle (as an analyst)."""
    files = [
        (path.name, path.read_bytes())
        for path in sorted(PROCESSES.iterdir())
        if path.suffix in (".bpmn", ".dmn")
    ]
    with time_machine.travel(START, tick=True), db.write() as session:
        _, definitions = deployments.deploy_bundle(session, ANALYST, files, START, MAX_BYTES)
        return [(d.key, d.version) for d in definitions]


def create_enterprise(db, name: str | None = None) -> int:
    serial = next(_serial)
    uscc = _with_check(f"91440105MA{serial:07d}")
    with db.write() as session:
        row = Enterprise(name=name or f"测试建设单位{serial}有限公司", uscc=uscc, created_at=START)
        session.add(row)
        session.flush()
        return row.id


class Flow:
    """One case of a deployed process, driven step by step as its users would."""

    def __init__(self, db, case_id: int, enterprise_id: int | None, now: datetime):
        self.db = db
        self.case_id = case_id
        self.enterprise_id = enterprise_id
        self.now = now
        self._attachment: str | None = None

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        db,
        key: str,
        data: dict,
        *,
        starter: Actor | None = None,
        enterprise_id: int | None = None,
        now: datetime = START,
    ) -> Flow:
        """Start a case with the files of its start form; by default the enterprise applies
        for itself. :class:`File` values in ``data`` are uploaded in the same transaction."""
        if enterprise_id is None:
            enterprise_id = create_enterprise(db)
        actor = starter or Actor(f"enterprise.{enterprise_id}", "enterprise", None, enterprise_id)
        with time_machine.travel(now, tick=True), db.write() as session:
            case = start_with_files(session, actor, key, data, now, enterprise_id)
            case_id = case.id
        return cls(db, case_id, enterprise_id, now)

    # -- who acts -----------------------------------------------------------------------------

    @property
    def enterprise(self) -> Actor:
        return Actor(f"enterprise.{self.enterprise_id}", "enterprise", None, self.enterprise_id)

    def actor_for(self, department: str) -> Actor:
        return self.enterprise if department == "enterprise" else officer(department)

    def _tick(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    # -- what users see -----------------------------------------------------------------------

    def open_tasks(self) -> list[Task]:
        with self.db.read() as session:
            return list(
                session.scalars(
                    select(Task)
                    .where(Task.case_id == self.case_id, Task.status.in_(steps.OPEN))
                    .order_by(Task.id)
                )
            )

    def inbox(self) -> list[tuple[str, str]]:
        """(department, element id) of every open task, sorted."""
        return sorted((t.department, t.element_id) for t in self.open_tasks())

    def tasks_of(self, element_id: str) -> list[Task]:
        return [t for t in self.open_tasks() if t.element_id == element_id]

    def task(self, element_id: str, department: str | None = None) -> Task:
        found = [
            t for t in self.tasks_of(element_id) if department is None or t.department == department
        ]
        assert len(found) == 1, (element_id, department, self.inbox())
        return found[0]

    def case(self):
        """The case as its enterprise sees it (stage, status)."""
        with self.db.read() as session:
            actor = self.enterprise if self.enterprise_id else Actor("x", "admin")
            case = cases.get_case(session, actor, self.case_id)
            session.expunge(case)
            return case

    @property
    def stage(self) -> str | None:
        return self.case().stage

    @property
    def status(self) -> str:
        return self.case().status

    def data(self) -> dict:
        with self.db.read() as session:
            return cases.case_data(
                session, cases.get_case(session, Actor("x", "admin"), self.case_id)
            )

    def history(self, element_id: str) -> list[Task]:
        """Completed tasks of one element, oldest first."""
        with self.db.read() as session:
            return list(
                session.scalars(
                    select(Task)
                    .where(
                        Task.case_id == self.case_id,
                        Task.element_id == element_id,
                        Task.status == "completed",
                    )
                    .order_by(Task.id)
                )
            )

    # -- acting -------------------------------------------------------------------------------

    def attachment(self) -> str:
        """An uploaded PDF on this case (file fields must reference the case's attachments)."""
        if self._attachment is None:
            with time_machine.travel(self._tick(), tick=True), self.db.write() as session:
                row = attachments.add_attachment(
                    session,
                    self.enterprise,
                    self.case_id,
                    "材料.pdf",
                    "application/pdf",
                    PDF,
                    self.now,
                )
                self._attachment = row.id
        return self._attachment

    def complete(
        self,
        element_id: str,
        data: dict,
        *,
        department: str | None = None,
        task: Task | None = None,
    ) -> Flow:
        """Complete the open task of ``element_id`` as a user of the task's own department."""
        task = task or self.task(element_id, department)
        actor = self.actor_for(task.department)
        with time_machine.travel(self._tick(), tick=True), self.db.write() as session:
            tasks.complete(session, actor, task.id, data, self.now)
        return self

    def rejects(self, element_id: str, data: dict, *, department: str | None = None) -> dict:
        """Completing with ``data`` is refused with InvalidInput; returns its field errors."""
        task = self.task(element_id, department)
        actor = self.actor_for(task.department)
        with (
            time_machine.travel(self._tick(), tick=True),
            pytest.raises(InvalidInput) as raised,
            self.db.write() as session,
        ):
            tasks.complete(session, actor, task.id, data, self.now)
        assert self.task(element_id, department).id == task.id  # still open
        return raised.value.errors

    def message(self, name: str, data: dict, actor: Actor | None = None) -> Flow:
        with time_machine.travel(self._tick(), tick=True), self.db.write() as session:
            cases.send_message(
                session, actor or Actor("cim.gateway", "admin"), self.case_id, name, data, self.now
            )
        return self

    def advance_to(self, when: datetime | date) -> Flow:
        """Move the clock to ``when`` and let the engine fire every timer that is due."""
        if not isinstance(when, datetime):
            when = datetime(when.year, when.month, when.day, 9, 0, tzinfo=UTC)
        assert when > self.now, "the clock only moves forward"
        self.now = when
        with time_machine.travel(self._tick(), tick=True), self.db.write() as session:
            steps.act(
                session,
                self.case_id,
                "system",
                self.now,
                lambda ctx, wf: steps.runtime().fire_timers(wf),
            )
        return self

    def advance(self, **delta) -> Flow:
        return self.advance_to(self.now + timedelta(**delta))

    def today(self, days: int = 0) -> str:
        """A date for a form, ``days`` after the virtual today."""
        return (self.now.date() + timedelta(days=days)).isoformat()


def start_with_files(session, actor: Actor, key: str, data: dict, now: datetime, enterprise_id):
    data, files = split_files(data)
    return start_files.start_case_with_files(
        session,
        actor,
        key,
        data.get("project_name") or "琶洲测试项目",
        data,
        [
            (path, start_files.UploadedFile(f.filename, f.content_type, f.content))
            for path, f in files
        ],
        now,
        enterprise_id=enterprise_id,
        max_bytes=MAX_BYTES,
    )


class _Api:
    """The app on the flow's database and a logged-in test client per person."""

    PASSWORD = "process-walk-password"

    def __init__(self, db):
        from engine import create_app

        self.db = db
        self.app = create_app({"DATABASE_URL": db.url, "TESTING": True})
        self.client = self.app.test_client()
        self.tokens: dict[str, str] = {}

    def _username(self, actor: Actor) -> str:
        if actor.role == "enterprise":
            return f"api.enterprise.{actor.enterprise_id}"
        return f"api.{actor.role}.{actor.department or 'bureau'}"

    def token(self, actor: Actor) -> str:
        from engine.services import users

        username = self._username(actor)
        if username not in self.tokens:
            with self.db.write() as session:
                users.seed_departments(session)
                users.create_user(
                    session,
                    username,
                    self.PASSWORD,
                    actor.role,
                    actor.department,
                    actor.enterprise_id,
                    now=START,
                )
            response = self.client.post(
                "/api/v1/auth/token", json={"username": username, "password": self.PASSWORD}
            )
            assert response.status_code == 201, response.get_json()
            self.tokens[username] = response.get_json()["token"]
        return self.tokens[username]

    def call(self, actor: Actor, method: str, path: str, **kwargs):
        headers = {"Authorization": f"Bearer {self.token(actor)}"}
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)


class ApiFlow(Flow):
    """The same case driven over HTTP: start, complete, messages and uploads are API calls.

    What the test observes (inbox, stage, data) is read as in :class:`Flow`; every action a
    person takes goes through the HTTP API with that person's own token.
    """

    def __init__(self, db, case_id: int, enterprise_id: int | None, now: datetime, api: _Api):
        super().__init__(db, case_id, enterprise_id, now)
        self.api = api

    @classmethod
    def start(cls, db, key, data, *, starter=None, enterprise_id=None, now=START) -> ApiFlow:
        api = _Api(db)
        if enterprise_id is None:
            enterprise_id = create_enterprise(db)
        actor = starter or Actor("enterprise", "enterprise", None, enterprise_id)
        data, files = split_files(data)
        body = {
            "definition_key": key,
            "project_name": data.get("project_name") or "琶洲测试项目",
            "data": data,
        }
        if actor.role != "enterprise":
            body["enterprise_id"] = enterprise_id
        parts: dict[str, object] = {"case": json.dumps(body, ensure_ascii=False)}
        for path, f in files:
            parts.setdefault(path, []).append((io.BytesIO(f.content), f.filename, f.content_type))
        with time_machine.travel(now, tick=True):
            response = api.call(
                actor, "POST", "/cases/with-files", data=parts, content_type="multipart/form-data"
            )
        assert response.status_code == 201, response.get_json()
        return cls(db, response.get_json()["id"], enterprise_id, now, api)

    def attachment(self) -> str:
        if self._attachment is None:
            with time_machine.travel(self._tick(), tick=True):
                response = self.api.call(
                    self.enterprise,
                    "POST",
                    f"/cases/{self.case_id}/attachments",
                    data={"file": (io.BytesIO(PDF), "材料.pdf", "application/pdf")},
                    content_type="multipart/form-data",
                )
            assert response.status_code == 201, response.get_json()
            self._attachment = response.get_json()["id"]
        return self._attachment

    def complete(self, element_id, data, *, department=None, task=None) -> ApiFlow:
        task = task or self.task(element_id, department)
        actor = self.actor_for(task.department)
        with time_machine.travel(self._tick(), tick=True):
            response = self.api.call(
                actor, "POST", f"/tasks/{task.id}/complete", json={"data": data}
            )
        assert response.status_code == 200, response.get_json()
        self.assert_matches_a_fresh_read(response.get_json()["case"])
        return self

    def assert_matches_a_fresh_read(self, case: dict) -> None:
        """What a step answers (built from the rows the step holds) is what a later read of
        the case finds in the database: the same open tasks, due date, stage and status."""
        assert case["id"] == self.case_id
        fresh = self.api.call(Actor("reader", "admin"), "GET", f"/cases/{self.case_id}").get_json()
        for key in ("open_tasks", "due_at", "stage", "status", "data"):
            assert case[key] == fresh[key], key

    def rejects(self, element_id, data, *, department=None) -> dict:
        task = self.task(element_id, department)
        actor = self.actor_for(task.department)
        with time_machine.travel(self._tick(), tick=True):
            response = self.api.call(
                actor, "POST", f"/tasks/{task.id}/complete", json={"data": data}
            )
        assert response.status_code == 422, response.get_json()
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert self.task(element_id, department).id == task.id  # still open
        return response.get_json()["errors"]

    def message(self, name, data, actor=None) -> ApiFlow:
        with time_machine.travel(self._tick(), tick=True):
            response = self.api.call(
                actor or Actor("cim", "admin"),
                "POST",
                f"/cases/{self.case_id}/messages",
                json={"name": name, "data": data},
            )
        assert response.status_code == 202, response.get_json()
        return self


# -- form data shared by the processes ----------------------------------------------------------


def intake_incomplete(flow: Flow, *missing: str) -> dict:
    return {
        "materials_complete": False,
        "missing_items": list(missing) or ["施工图审查合格书", "建设资金已经落实承诺书"],
        "correction_guidance": "请一次性补齐上述材料",
        "intake_date": flow.today(),
    }


def intake_complete(flow: Flow, receipt: str = "SL-2026-001") -> dict:
    return {"materials_complete": True, "intake_receipt_no": receipt, "intake_date": flow.today()}


def correction(flow: Flow, *missing: str) -> dict:
    return {
        "missing_items": list(missing) or ["施工图审查合格书"],
        "correction_files": [flow.attachment()],
        "correction_note": "已按一次告知补齐",
    }


def permit_start(**overrides) -> dict:
    data = {
        **HEADER,
        "has_basement": True,
        "pit_depth_m": 8.5,
        "owner_requests_phasing": True,
        "gfa_m2": 85000,
    }
    data.update(overrides)
    return data


def permit_apply(flow: Flow, phase: str) -> dict:
    att = flow.attachment()
    data = {
        "current_phase": phase,
        "land_approval_no": "穗国土批〔2024〕1号",
        "planning_permit_no": "建字第440105202400001号",
        "drawing_review_cert_no": "SC-2024-88",
        "contractor_name": "广州某建设集团有限公司",
        "contractor_uscc": CONTRACTOR_USCC,
        "supervisor_name": "广州某监理有限公司",
        "supervisor_uscc": CONTRACTOR_USCC,
        "project_manager": {"name": "李四", "cert_no": "粤144000000001"},
        "chief_supervisor": {"name": "王五", "cert_no": "44000001"},
        "contract_amount_cny": 120_000_000,
        "funding_commitment": True,
        "funding_commitment_file": att,
        "safety_measures_file": att,
        "dangerous_works": [
            {
                "type": "基坑工程",
                "scale": "over_limit",
                "scheme_file": att,
                "expert_review_file": att,
            }
        ],
    }
    if phase == "P1":
        data["monitoring_scheme_file"] = att
    return data


PERMIT_REVIEW_OK = {
    "supervision_registered": True,
    "fire_design_status": "passed",
    "civil_defense_status": "passed",
    "dangerous_works_ok": True,
    "safety_measures_ok": True,
    "recommendation": "approve",
    "review_opinion": "符合施工许可条件",
}


def permit_number(serial: int, phase: str) -> str:
    base = f"4401052026030201{serial:02d}"
    return base if phase == "ALL" else f"{base}-{phase}"


def walk_permit_phase(flow: Flow, phase: str, serial: int, correction_round: bool = False) -> None:
    """One phase: the enterprise applies, housing accepts (optionally after a correction), approves."""
    flow.complete("Task_permit_apply", permit_apply(flow, phase))
    assert flow.task("Task_permit_intake").department == "housing"
    if correction_round:
        flow.complete("Task_permit_intake", intake_incomplete(flow))
        assert flow.task("Task_permit_correct").department == "enterprise"
        flow.complete("Task_permit_correct", correction(flow))
    flow.complete("Task_permit_intake", intake_complete(flow, f"SL-{phase}-{serial}"))
    flow.complete("Task_permit_review", PERMIT_REVIEW_OK)
    flow.complete(
        "Task_permit_decision",
        {
            "decision": "approve",
            "permit_no": permit_number(serial, phase),
            "issue_date": flow.today(),
        },
    )


def fire_start(**overrides) -> dict:
    data = {**HEADER, "building_uses": [{"use": "商场", "area_m2": 12000}], "gfa_m2": 85000}
    data.update(overrides)
    return data


def fire_apply(flow: Flow, special: bool = False) -> dict:
    att = flow.attachment()
    data = {
        "application_form_file": att,
        "fire_design_files": [att],
        "designer_name": "广州某建筑设计研究院",
        "designer_uscc": CONTRACTOR_USCC,
        "uses_foreign_standard": False,
        "uses_nonconforming_new_tech": special,
        "is_temporary_building": False,
    }
    if special:
        data["special_fire_design_file"] = att
    return data


FIRE_TECH_PASS = {
    "designer_qualified": True,
    "drawings_conform": True,
    "recommendation": "pass",
    "review_opinion": "消防设计符合国家工程建设消防技术标准",
}


def walk_fire_review(flow: Flow, opinion_no: str = "穗海住建消审字〔2026〕1号") -> None:
    flow.complete("Task_fire_apply", fire_apply(flow))
    flow.complete("Task_fire_intake", intake_complete(flow, "XF-SL-1"))
    flow.complete("Task_fire_technical_review", FIRE_TECH_PASS)
    flow.complete(
        "Task_fire_opinion",
        {"result": "pass", "opinion_no": opinion_no, "opinion_date": flow.today()},
    )


def cd_start(**overrides) -> dict:
    data = {
        **HEADER,
        "building_class": "residential",
        "floors_above": 18,
        "foundation_depth_m": 6,
        "key_city": True,
        "above_ground_m2": 60000,
        "ground_floor_area_m2": 2500,
        "civil_defense_site_unsuitable": False,
    }
    data.update(overrides)
    return data


def cd_design_apply(flow: Flow) -> dict:
    return {
        "shelter_design_files": [flow.attachment()],
        "shelter_area_m2": 2500,
        "protection_grade": "6级",
        "peacetime_use": "地下汽车库",
        "design_unit_name": "广州某人防设计院",
        "design_unit_uscc": CONTRACTOR_USCC,
    }


CD_REVIEW_PASS = {
    "area_meets_requirement": True,
    "grade_meets_requirement": True,
    "result": "pass",
    "opinion_no": "穗海人防审〔2026〕1号",
}


def walk_cd_build_review(flow: Flow) -> None:
    flow.complete("Task_cd_design_apply", cd_design_apply(flow))
    flow.complete("Task_cd_intake", intake_complete(flow, "RF-SL-1"))
    flow.complete("Task_cd_design_review", CD_REVIEW_PASS)


def start_rejected(db, key: str, data: dict) -> dict:
    """Starting ``key`` with ``data`` is refused with InvalidInput; returns its field errors."""
    enterprise_id = create_enterprise(db)
    actor = Actor(f"enterprise.{enterprise_id}", "enterprise", None, enterprise_id)
    with pytest.raises(InvalidInput) as raised, db.write() as session:
        start_with_files(session, actor, key, data, START, enterprise_id)
    return raised.value.errors


def jca_apply(**overrides) -> dict:
    data = {
        **HEADER,
        "owner_acceptance_date": "2026-02-20",
        "qs_notified_date": "2026-02-10",
        "building_codes": ["A1", "A2"],
        "bim_submission_id": "BIM-2026-0001",
        "survey_report_file": pdf("多测合一成果报告.pdf"),
        "archives_transfer_list": pdf("城建档案移交清单.pdf"),
        "fire_track": "special",
        "fire_commissioning_report": pdf("消防联调联试报告.pdf"),
        "civil_defense_required": True,
        "civil_defense_area_m2": 2500,
        "completion_report_file": pdf("工程竣工验收报告.pdf"),
    }
    data.update(overrides)
    return data


PROBLEM = {"description": "消防水泵未与火灾报警系统联动", "clause": "GB 50974-2014 第13.1.4条"}


def item_pass() -> dict:
    return {"result": "pass", "opinion": "符合验收要求", "reviewer": "审查员甲"}


def item_fail() -> dict:
    return {
        "result": "fail",
        "opinion": "不符合验收要求",
        "reviewer": "审查员甲",
        "reasons": ["消防设施联动调试未完成"],
        "rectification_items": [PROBLEM],
    }


def site_inspection(flow: Flow, result: str = "pass", severity: str = "一般") -> dict:
    data = {
        "inspection_date": flow.today(),
        "inspectors": ["监督员甲", "监督员乙"],
        "participating_departments": ["quality_safety", "fire"],
        "site_result": result,
    }
    if result == "fail":
        data["reasons"] = ["临边防护缺失"]
        data["findings"] = [
            {
                "description": "3号楼临边防护缺失",
                "clause": "JGJ 80-2016 第4.1.1条",
                "category": "安全",
                "severity": severity,
                "photos": [flow.attachment()],
            }
        ]
    return data


def rect_start(**overrides) -> dict:
    data = {
        "project_code": PROJECT_CODE,
        "project_name": "琶洲数字经济总部项目",
        "owner_name": "广州琶洲数字科技有限公司",
        "owner_uscc": USCC,
        "rect_source": "日常监督检查",
        "rect_severity": "一般",
        "rect_category": "安全",
        "rect_problems": [{"description": "3号楼临边防护缺失", "clause": "JGJ 80-2016 第4.1.1条"}],
    }
    data.update(overrides)
    return data


def rect_notice(flow: Flow, notice_type: str = "限期整改", **overrides) -> dict:
    data = {
        "rect_notice_type": notice_type,
        "doc_word": "穗海建改",
        "doc_no": f"2026-{flow.now:%H%M}",
        "issue_date": flow.today(),
        "responsible_entity": USCC,
        "responsible_entity_name": "广州琶洲数字科技有限公司",
        "rect_problems": [{"description": "3号楼临边防护缺失", "clause": "JGJ 80-2016 第4.1.1条"}],
        "inspectors": ["监督员甲", "监督员乙"],
        "signer": "科长丙",
    }
    if notice_type in ("停工整改", "立即排除", "局部暂停施工"):
        data["stop_time"] = flow.now.isoformat()
    if notice_type == "局部暂停施工":
        data["stop_scope"] = "3号楼"
    data.update(overrides)
    return data


def rect_submit(flow: Flow) -> dict:
    return {
        "items": [
            {
                "problem_ref": "1",
                "measures": "已补设临边防护",
                "done": True,
                "evidence_files": [flow.attachment()],
            }
        ],
        "reply_date": flow.today(),
        "reinspection_requested": True,
    }


def rect_verify(flow: Flow, passed: bool) -> dict:
    data = {
        "method": "现场",
        "verify_date": flow.today(),
        "inspectors": ["监督员甲", "监督员乙"],
        "item_results": [{"problem_ref": "1", "passed": passed}],
        "overall": "passed" if passed else "failed",
    }
    if not passed:
        data["reasons"] = ["临边防护仍不符合要求"]
        data["findings"] = [{"description": "防护栏杆高度不足", "clause": "JGJ 80-2016 第4.3.1条"}]
    return data


def walk_rectification_round(
    flow: Flow, passed: bool = True, notice_type: str = "限期整改"
) -> None:
    """Quality-safety issues the notice, the enterprise rectifies, quality-safety verifies."""
    assert flow.task("Task_issue_notice").department == "quality_safety"
    flow.complete("Task_issue_notice", rect_notice(flow, notice_type))
    assert flow.task("Task_enterprise_rectify").department == "enterprise"
    flow.complete("Task_enterprise_rectify", rect_submit(flow))
    flow.complete("Task_verify", rect_verify(flow, passed))
