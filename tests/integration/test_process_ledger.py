"""coordination_ledger (工作台账) through the service layer: triage by the service centre,
the owner department resolving the issue, the enterprise confirming or reopening it, and the
bi-weekly task-force meetings that go to the leadership after three meetings."""

from __future__ import annotations

from .process_helpers import PROJECT_CODE, Flow, deploy_processes, start_rejected

KEY = "coordination_ledger"


def raise_issue(**overrides) -> dict:
    data = {
        "project_code": PROJECT_CODE,
        "project_name": "琶洲数字经济总部项目",
        "owner_name": "广州琶洲数字科技有限公司",
        "contact_name": "张三",
        "contact_phone": "13800138000",
        "category": "供电",
        "description": "施工临时用电未接入",
        "expected_date": "2026-03-20",
    }
    data.update(overrides)
    return data


def assign(flow: Flow, department: str = "utilities") -> None:
    flow.complete(
        "Task_triage",
        {
            "triage_decision": "assign",
            "owner_department": department,
            "target_date": flow.today(10),
        },
    )


def meeting(flow: Flow) -> None:
    task = flow.task("Task_biweekly_meeting")
    assert task.department == "task_force"
    flow.complete(
        "Task_biweekly_meeting",
        {
            "meeting_date": flow.today(),
            "attendees": ["专班甲", "供电所乙"],
            "discussion": "协调临时用电",
        },
    )


def resolve(flow: Flow, text: str) -> None:
    flow.complete(
        "Task_resolve", {"resolution": text, "resolved_date": flow.today(), "handler": "供电所"}
    )


def test_issue_outside_the_bureau_is_rejected_with_reasons(db):
    deploy_processes(db)
    flow = Flow.start(db, KEY, raise_issue(category="其他", description="邻里纠纷"))
    triage = flow.task("Task_triage")
    assert triage.department == "service_center" and triage.sla_working_days == 1
    assert "reasons" in flow.rejects("Task_triage", {"triage_decision": "reject"})
    assert {"owner_department", "target_date"} <= set(
        flow.rejects("Task_triage", {"triage_decision": "assign"})
    )
    flow.complete("Task_triage", {"triage_decision": "reject", "reasons": ["不属于本局职能"]})
    assert flow.status == "completed"
    assert flow.inbox() == []
    assert flow.data()["triage_decision"] == "reject"


def test_raise_form_checks(sqlite_db):
    deploy_processes(sqlite_db)
    assert "category" in start_rejected(sqlite_db, KEY, raise_issue(category="噪音"))
    assert "description" in start_rejected(
        sqlite_db, KEY, {k: v for k, v in raise_issue().items() if k != "description"}
    )


def test_resolved_reopened_resolved_and_confirmed(db, flow_cls):
    deploy_processes(db)
    flow = flow_cls.start(db, KEY, raise_issue())
    assign(flow, "utilities")
    resolve_task = flow.task("Task_resolve")
    assert resolve_task.department == "utilities" and resolve_task.sla_working_days == 10
    resolve(flow, "已接入临时用电")
    assert flow.inbox() == [("enterprise", "Task_confirm")]
    assert "reasons" in flow.rejects("Task_confirm", {"confirm_decision": "reopen"})
    flow.complete("Task_confirm", {"confirm_decision": "reopen", "reasons": ["电压不稳"]})
    assert flow.inbox() == [("utilities", "Task_resolve")]
    resolve(flow, "已更换箱式变压器")
    flow.complete("Task_confirm", {"confirm_decision": "confirm", "satisfaction": 5})

    # closing the item also stops the bi-weekly meetings
    assert flow.status == "completed"
    assert flow.inbox() == []
    assert len(flow.history("Task_resolve")) == 2
    # The closing end event terminates the meetings branch, so its stale copy of the item's
    # data cannot become the closed case's data.
    data = flow.data()
    assert data["ledger_status"] == "closed"
    assert data["reopen_count"] == 1


def test_three_meetings_without_result_go_to_the_leadership(sqlite_db):
    deploy_processes(sqlite_db)
    flow = Flow.start(sqlite_db, KEY, raise_issue())
    assign(flow)
    flow.advance(days=10)
    assert flow.inbox() == [("utilities", "Task_resolve")]  # no meeting before 14 days
    for _ in range(3):
        flow.advance(days=15)
        meeting(flow)
    assert flow.inbox() == [
        ("leadership", "Task_leadership_coordination"),
        ("utilities", "Task_resolve"),
    ]
    flow.complete(
        "Task_leadership_coordination",
        {
            "leadership_decision": "continue",
            "instructions": ["限期接电"],
            "due_date": flow.today(5),
            "signer": "局长",
        },
    )
    assert flow.inbox() == [("utilities", "Task_resolve")]
    flow.advance(days=15)
    assert ("task_force", "Task_biweekly_meeting") in flow.inbox()  # tracking continues

    resolve(flow, "已接入临时用电")
    flow.complete("Task_confirm", {"confirm_decision": "confirm"})
    assert flow.status == "completed" and flow.inbox() == []


def test_leadership_turns_the_item_into_a_supervised_case(sqlite_db):
    deploy_processes(sqlite_db)
    flow = Flow.start(sqlite_db, KEY, raise_issue())
    assign(flow)
    for _ in range(3):
        flow.advance(days=15)
        meeting(flow)
    flow.complete(
        "Task_leadership_coordination",
        {
            "leadership_decision": "supervise",
            "instructions": ["转局督办件"],
            "due_date": flow.today(5),
            "signer": "局长",
        },
    )
    flow.advance(days=30)
    assert flow.inbox() == [("utilities", "Task_resolve")]  # no more meetings; the item stays open
