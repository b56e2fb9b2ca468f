"""construction_permit_phased through the service layer: phases (D7), corrections, refusal,
the three-month start deadline with its two extensions."""

from __future__ import annotations

import pytest

from engine.errors import Conflict
from engine.services import cases

from .process_helpers import (
    PERMIT_REVIEW_OK,
    Flow,
    correction,
    deploy_processes,
    intake_complete,
    intake_incomplete,
    permit_apply,
    permit_number,
    permit_start,
    start_rejected,
    walk_permit_phase,
)

KEY = "construction_permit_phased"


def test_three_phases_with_one_correction_then_construction_starts(db, flow_cls):
    deploy_processes(db)
    flow = flow_cls.start(db, KEY, permit_start())  # basement, 8.5 m pit, phasing requested
    assert flow.data()["permit_phases"] == ["P1", "P2", "P3"]
    assert flow.stage == "permit_p1"
    assert flow.inbox() == [("enterprise", "Task_permit_apply")]

    flow.complete("Task_permit_apply", permit_apply(flow, "P1"))
    intake = flow.task("Task_permit_intake")
    assert intake.department == "housing"
    assert intake.sla_working_days == 5 and intake.due_at is not None
    assert "第五条" in intake.legal_basis

    flow.complete("Task_permit_intake", intake_incomplete(flow, "施工图审查合格书"))
    assert flow.inbox() == [("enterprise", "Task_permit_correct")]
    flow.complete("Task_permit_correct", correction(flow, "施工图审查合格书"))
    assert flow.inbox() == [("housing", "Task_permit_intake")]
    flow.complete("Task_permit_intake", intake_complete(flow))
    flow.complete("Task_permit_review", PERMIT_REVIEW_OK)
    decision = flow.task("Task_permit_decision")
    assert decision.department == "housing" and decision.sla_working_days == 2
    flow.complete(
        "Task_permit_decision",
        {"decision": "approve", "permit_no": permit_number(1, "P1"), "issue_date": flow.today()},
    )
    assert flow.stage == "permit_p2"
    assert flow.inbox() == [("enterprise", "Task_permit_apply")]

    walk_permit_phase(flow, "P2", 2)
    assert flow.stage == "permit_p3"
    walk_permit_phase(flow, "P3", 3)
    assert flow.stage == "under_construction"
    assert flow.inbox() == []
    assert flow.status == "running"  # waiting for the start-of-construction report
    data = flow.data()
    assert data["permit_outcome"] == "issued"
    assert [(p["phase"], p["permit_no"]) for p in data["issued_permits"]] == [
        ("P1", permit_number(1, "P1")),
        ("P2", permit_number(2, "P2")),
        ("P3", permit_number(3, "P3")),
    ]

    flow.message("construction_started", {"start_date": flow.today()}, actor=flow.enterprise)
    assert flow.status == "completed"
    assert flow.data()["construction_start_report"] == {"start_date": flow.today()}


D7_CASES = [
    # (owner asks for phasing, basement, pit depth m) -> phases, stage the enterprise sees first
    ((False, True, 8.5), ["ALL"], "permit_p1"),
    ((True, True, 8.5), ["P1", "P2", "P3"], "permit_p1"),
    ((True, False, 4.0), ["P1", "P3"], "permit_p1"),
    ((True, True, 2.0), ["P2", "P3"], "permit_p2"),
    ((True, False, 2.0), ["ALL"], "permit_p1"),
]


def test_d7_decides_the_phases_from_the_project(sqlite_db):
    deploy_processes(sqlite_db)
    for (phasing, basement, pit), phases, first_stage in D7_CASES:
        flow = Flow.start(
            sqlite_db,
            KEY,
            permit_start(owner_requests_phasing=phasing, has_basement=basement, pit_depth_m=pit),
        )
        data = flow.data()
        assert data["permit_phases"] == phases, (phasing, basement, pit)
        assert data["current_phase"] == phases[0]
        assert flow.stage == first_stage
        assert flow.inbox() == [("enterprise", "Task_permit_apply")]


def test_refusal_must_give_reasons_and_ends_the_case(sqlite_db):
    deploy_processes(sqlite_db)
    flow = Flow.start(sqlite_db, KEY, permit_start(owner_requests_phasing=False))
    flow.complete("Task_permit_apply", permit_apply(flow, "ALL"))
    flow.complete("Task_permit_intake", intake_complete(flow))
    errors = flow.rejects("Task_permit_review", dict(PERMIT_REVIEW_OK, recommendation="refuse"))
    assert "issues" in errors
    flow.complete(
        "Task_permit_review",
        dict(PERMIT_REVIEW_OK, recommendation="refuse", issues=["未办理质量安全监督登记"]),
    )
    errors = flow.rejects("Task_permit_decision", {"decision": "refuse"})
    assert list(errors) == ["reasons"]
    errors = flow.rejects("Task_permit_decision", {"decision": "refuse", "reasons": []})
    assert "reasons" in errors
    flow.complete(
        "Task_permit_decision", {"decision": "refuse", "reasons": ["未办理质量安全监督登记"]}
    )

    assert flow.status == "completed"
    assert flow.inbox() == []
    data = flow.data()
    assert data["permit_outcome"] == "refused"
    assert data["permit_refusal"] == {"phase": "ALL", "reasons": ["未办理质量安全监督登记"]}
    assert not data["issued_permits"]


def test_approval_needs_a_permit_number_in_the_national_format(sqlite_db):
    deploy_processes(sqlite_db)
    flow = Flow.start(sqlite_db, KEY, permit_start(owner_requests_phasing=False))
    flow.complete("Task_permit_apply", permit_apply(flow, "ALL"))
    flow.complete("Task_permit_intake", intake_complete(flow))
    flow.complete("Task_permit_review", PERMIT_REVIEW_OK)
    errors = flow.rejects("Task_permit_decision", {"decision": "approve"})
    assert {"permit_no", "issue_date"} <= set(errors)
    errors = flow.rejects(
        "Task_permit_decision",
        {"decision": "approve", "permit_no": "SG-001", "issue_date": flow.today()},
    )
    assert list(errors) == ["permit_no"]


def test_application_form_checks(sqlite_db):
    deploy_processes(sqlite_db)
    flow = Flow.start(sqlite_db, KEY, permit_start())
    good = permit_apply(flow, "P1")

    without_monitoring = {k: v for k, v in good.items() if k != "monitoring_scheme_file"}
    assert "monitoring_scheme_file" in flow.rejects("Task_permit_apply", without_monitoring)
    assert "contractor_uscc" in flow.rejects(
        "Task_permit_apply", dict(good, contractor_uscc="91440101190000001X")
    )
    assert "funding_commitment" in flow.rejects(
        "Task_permit_apply", dict(good, funding_commitment=False)
    )
    # a file field must name an attachment uploaded to this case
    assert "safety_measures_file" in flow.rejects(
        "Task_permit_apply", dict(good, safety_measures_file="not-uploaded")
    )
    # a one-time correction list (一次告知) must name what is missing
    flow.complete("Task_permit_apply", good)
    errors = flow.rejects(
        "Task_permit_intake", {"materials_complete": False, "intake_date": flow.today()}
    )
    assert "missing_items" in errors


def test_start_form_checks_codes(sqlite_db):
    deploy_processes(sqlite_db)
    assert "owner_uscc" in start_rejected(
        sqlite_db, KEY, permit_start(owner_uscc="91350100M000100Y44")
    )
    assert "project_code" in start_rejected(
        sqlite_db, KEY, permit_start(project_code="2024-440105-47")
    )
    assert "contact_phone" in start_rejected(sqlite_db, KEY, permit_start(contact_phone="12345"))
    missing = permit_start()
    del missing["has_basement"]
    assert "has_basement" in start_rejected(sqlite_db, KEY, missing)


def _issued_p1_p3(db) -> Flow:
    flow = Flow.start(db, KEY, permit_start(has_basement=False, pit_depth_m=4.0))
    walk_permit_phase(flow, "P1", 1)
    walk_permit_phase(flow, "P3", 2)
    assert flow.stage == "under_construction" and flow.inbox() == []
    return flow


def _extend(flow: Flow, until_days: int) -> None:
    flow.complete(
        "Task_start_followup",
        {
            "followup_result": "extended",
            "extension_until": flow.today(until_days),
            "extension_reason": "征拆未完成",
            "followup_note": "企业申请延期",
        },
    )


def test_not_started_in_three_months_two_extensions_then_the_permit_lapses(sqlite_db):
    deploy_processes(sqlite_db)
    flow = _issued_p1_p3(sqlite_db)

    flow.advance(days=60)
    assert flow.inbox() == []  # three months have not passed
    flow.advance(days=35)
    followup = flow.task("Task_start_followup")
    assert followup.department == "housing" and followup.sla_working_days == 5
    assert "第九条" in followup.legal_basis

    errors = flow.rejects(
        "Task_start_followup", {"followup_result": "extended", "followup_note": "x"}
    )
    assert {"extension_until", "extension_reason"} <= set(errors)
    _extend(flow, 90)
    assert flow.inbox() == [] and flow.status == "running"
    assert flow.data()["extension_count"] == 1

    flow.advance(days=95)
    _extend(flow, 90)
    assert flow.inbox() == [] and flow.data()["extension_count"] == 2

    flow.advance(days=95)
    _extend(flow, 90)  # a third extension is not allowed: the permit lapses
    assert flow.status == "completed"
    data = flow.data()
    assert data["permit_outcome"] == "lapsed"
    assert data["extension_count"] == 2


def test_followup_finds_the_site_already_started(sqlite_db):
    deploy_processes(sqlite_db)
    flow = _issued_p1_p3(sqlite_db)
    flow.advance(days=95)
    errors = flow.rejects(
        "Task_start_followup", {"followup_result": "started", "followup_note": "x"}
    )
    assert "actual_start_date" in errors
    flow.complete(
        "Task_start_followup",
        {
            "followup_result": "started",
            "actual_start_date": flow.today(-3),
            "followup_note": "已开工未报告",
        },
    )
    assert flow.status == "completed"
    data = flow.data()
    assert data["permit_outcome"] == "issued"
    assert data["construction_start_report"] == {
        "start_date": flow.today(-3),
        "source": "housing_followup",
    }
    with pytest.raises(Conflict):
        flow.message("construction_started", {"start_date": flow.today()})


def test_start_report_before_the_deadline_cancels_the_followup(sqlite_db):
    deploy_processes(sqlite_db)
    flow = _issued_p1_p3(sqlite_db)
    flow.advance(days=30)
    flow.message("construction_started", {"start_date": flow.today()}, actor=flow.enterprise)
    assert flow.status == "completed"
    flow_case = flow.case()
    assert flow_case.completed_at is not None
    assert flow.inbox() == []


def test_enterprise_finds_its_case_by_permit_number(sqlite_db):
    deploy_processes(sqlite_db)
    flow = _issued_p1_p3(sqlite_db)
    with sqlite_db.read() as session:
        found, _ = cases.list_cases(session, flow.enterprise, q=permit_number(2, "P3"))
    assert [c.id for c in found] == [flow.case_id]
