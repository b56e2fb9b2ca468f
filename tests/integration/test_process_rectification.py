"""rectification through the service layer: notice terms from the rectification_terms DMN,
the enterprise's evidence, verification, a second round, leadership stop-work after two failed
rounds or an overdue deadline, and the resumption of work."""

from __future__ import annotations

from .process_helpers import (
    Flow,
    create_enterprise,
    deploy_processes,
    officer,
    rect_notice,
    rect_start,
    rect_submit,
    rect_verify,
    walk_rectification_round,
)

KEY = "rectification"


def start(db, flow_cls=Flow, **overrides) -> Flow:
    """Quality & safety supervision opens a rectification against an enterprise's site."""
    return flow_cls.start(
        db,
        KEY,
        rect_start(**overrides),
        starter=officer("quality_safety"),
        enterprise_id=create_enterprise(db),
    )


def terms(flow: Flow) -> tuple:
    data = flow.data()
    return data["rect_notice_type"], data["rect_deadline_days"], data["rect_verify_method"]


def escalate(flow: Flow, decision: str) -> None:
    task = flow.task("Task_escalate")
    assert task.department == "leadership"
    flow.complete(
        "Task_escalate",
        {
            "escalation_decision": decision,
            "reasons": ["整改不到位"],
            "measures": ["约谈"],
            "signer": "局长",
            "signoff_date": flow.today(),
        },
    )


def test_one_round_closes_the_rectification(db, flow_cls):
    deploy_processes(db)
    flow = start(db, flow_cls)
    assert terms(flow) == ("限期整改", 7, "书面")
    notice = flow.task("Task_issue_notice")
    assert notice.department == "quality_safety" and notice.sla_working_days == 1
    flow.complete("Task_issue_notice", rect_notice(flow))
    assert flow.stage == "rectifying"
    assert flow.inbox() == [("enterprise", "Task_enterprise_rectify")]
    flow.complete("Task_enterprise_rectify", rect_submit(flow))
    verify = flow.task("Task_verify")
    assert verify.department == "quality_safety" and verify.sla_working_days == 3
    flow.complete("Task_verify", rect_verify(flow, passed=True))

    assert flow.status == "completed"
    data = flow.data()
    assert data["rect_outcome"] == "closed"
    assert data["rect_rounds"] == 1
    assert [(h["round"], h["overall"]) for h in data["rect_history"]] == [(1, "passed")]


def test_closed_rectification_no_longer_shows_rectifying(sqlite_db):
    deploy_processes(sqlite_db)
    flow = start(sqlite_db)
    walk_rectification_round(flow, passed=True)
    assert flow.status == "completed"
    assert flow.stage != "rectifying"


def test_two_failed_rounds_go_to_leadership_stop_work_then_resume(sqlite_db):
    deploy_processes(sqlite_db)
    flow = start(sqlite_db)
    walk_rectification_round(flow, passed=False)
    # second round: shorter deadline, verified on site
    assert terms(flow) == ("限期整改", 5, "现场")
    assert flow.data()["rect_round"] == 2
    walk_rectification_round(flow, passed=False)
    assert flow.inbox() == [("leadership", "Task_escalate")]
    assert flow.stage == "rectifying"
    assert "reasons" in flow.rejects(
        "Task_escalate",
        {"escalation_decision": "stop_work", "signer": "局长", "signoff_date": flow.today()},
    )
    escalate(flow, "stop_work")

    # stop work: a major-hazard notice, which must say from when work stops
    assert terms(flow) == ("停工整改", 10, "现场")
    assert flow.data()["rect_stop_work"] is True
    errors = flow.rejects(
        "Task_issue_notice", rect_notice(flow, "限期整改", rect_notice_type="停工整改")
    )
    assert list(errors) == ["stop_time"]
    walk_rectification_round(flow, passed=True, notice_type="停工整改")
    assert flow.inbox() == [("quality_safety", "Task_resume_work")]
    flow.complete("Task_resume_work", {"resume_date": flow.today(), "signer": "科长丙"})

    assert flow.status == "completed"
    data = flow.data()
    assert data["rect_outcome"] == "closed"
    assert data["rect_rounds"] == 3
    assert [(h["round"], h["notice_type"], h["overall"]) for h in data["rect_history"]] == [
        (1, "限期整改", "failed"),
        (2, "限期整改", "failed"),
        (3, "停工整改", "passed"),
    ]
    assert data["rect_history"][0]["reasons"] == ["临边防护仍不符合要求"]


def test_missed_deadline_goes_to_leadership(sqlite_db):
    deploy_processes(sqlite_db)
    flow = start(sqlite_db)
    flow.complete("Task_issue_notice", rect_notice(flow))  # 7 working days from Monday 2 March
    flow.advance(days=8)
    assert flow.inbox() == [("enterprise", "Task_enterprise_rectify")]  # due 11 March
    flow.advance(days=2)
    # the enterprise can no longer answer; the leadership decides
    assert flow.inbox() == [("leadership", "Task_escalate")]
    escalate(flow, "extend")
    assert flow.data()["rect_round"] == 2
    assert flow.data()["rect_stop_work"] is False
    walk_rectification_round(flow, passed=True)
    assert flow.status == "completed"
    assert flow.data()["rect_outcome"] == "closed"


def test_rectification_terms_follow_the_hazard(sqlite_db):
    deploy_processes(sqlite_db)
    assert terms(start(sqlite_db, rect_severity="较大")) == ("局部暂停施工", 3, "现场")
    major = start(sqlite_db, rect_severity="重大隐患")
    assert terms(major) == ("停工整改", 10, "现场")
    walk_rectification_round(major, passed=True, notice_type="停工整改")
    # a stopped site needs a resumption confirmed before the case closes
    assert major.inbox() == [("quality_safety", "Task_resume_work")]


def test_forms_require_clauses_and_two_inspectors(sqlite_db):
    deploy_processes(sqlite_db)
    flow = start(sqlite_db)
    no_clause = rect_notice(flow)
    no_clause["rect_problems"] = [{"description": "临边防护缺失"}]
    assert "rect_problems.0.clause" in flow.rejects("Task_issue_notice", no_clause)
    assert "inspectors" in flow.rejects(
        "Task_issue_notice", dict(rect_notice(flow), inspectors=["监督员甲"])
    )
    partial = rect_notice(flow, "局部暂停施工")
    del partial["stop_scope"]
    assert list(flow.rejects("Task_issue_notice", partial)) == ["stop_scope"]
    flow.complete("Task_issue_notice", rect_notice(flow))
    no_evidence = rect_submit(flow)
    no_evidence["items"][0]["evidence_files"] = []
    assert "items.0.evidence_files" in flow.rejects("Task_enterprise_rectify", no_evidence)
    flow.complete("Task_enterprise_rectify", rect_submit(flow))
    failed = rect_verify(flow, passed=False)
    del failed["findings"]
    assert "findings" in flow.rejects("Task_verify", failed)


def test_case_data_shows_the_missed_deadline(sqlite_db):
    deploy_processes(sqlite_db)
    flow = start(sqlite_db)
    flow.complete("Task_issue_notice", rect_notice(flow))
    flow.advance(days=10)
    assert flow.inbox() == [("leadership", "Task_escalate")]
    assert flow.data()["rect_overdue"] is True
