"""fire_design_review through the service layer: intake with a one-time correction list,
special fire design sent to provincial experts (message + 20-working-day chase timer),
pass and fail opinions. D1 (special fire project) is decided in project_onboarding: see
test_process_onboarding.py."""

from __future__ import annotations

import pytest

from engine.errors import Conflict

from .process_helpers import (
    FIRE_TECH_PASS,
    Flow,
    correction,
    deploy_processes,
    fire_apply,
    fire_start,
    intake_complete,
    intake_incomplete,
    start_rejected,
)

KEY = "fire_design_review"
EXPERTS_FAILED = {
    "result": "fail",
    "review_date": "2026-03-20",
    "experts_count": 7,
    "agree_count": 3,
}


def test_review_with_one_correction_round_passes(db, flow_cls):
    deploy_processes(db)
    flow = flow_cls.start(db, KEY, fire_start())
    assert flow.inbox() == [("enterprise", "Task_fire_apply")]
    flow.complete("Task_fire_apply", fire_apply(flow))

    intake = flow.task("Task_fire_intake")
    assert intake.department == "fire" and intake.sla_working_days == 5 and intake.due_at
    flow.complete("Task_fire_intake", intake_incomplete(flow, "消防设计文件"))
    assert flow.inbox() == [("enterprise", "Task_fire_correct")]
    flow.complete("Task_fire_correct", correction(flow, "消防设计文件"))
    assert flow.inbox() == [("fire", "Task_fire_intake")]
    flow.complete("Task_fire_intake", intake_complete(flow, "XF-SL-2026-1"))

    # no special fire design: straight to the technical review, no expert forwarding
    assert flow.inbox() == [("fire", "Task_fire_technical_review")]
    flow.complete("Task_fire_technical_review", FIRE_TECH_PASS)
    opinion = flow.task("Task_fire_opinion")
    assert opinion.department == "fire" and opinion.sla_working_days == 5
    flow.complete(
        "Task_fire_opinion",
        {"result": "pass", "opinion_no": "穗海住建消审字〔2026〕8号", "opinion_date": flow.today()},
    )
    assert flow.status == "completed"
    data = flow.data()
    assert data["fire_design_result"] == "pass"
    assert data["fire_design_opinion_no"] == "穗海住建消审字〔2026〕8号"
    assert data["fire_design_reasons"] == []


def test_special_design_expert_review_overdue_chased_then_fails(sqlite_db):
    deploy_processes(sqlite_db)
    flow = Flow.start(sqlite_db, KEY, fire_start())

    # article 17 special design must come with its special design file
    errors = flow.rejects(
        "Task_fire_apply", fire_apply(flow, special=False) | {"uses_nonconforming_new_tech": True}
    )
    assert list(errors) == ["special_fire_design_file"]
    flow.complete("Task_fire_apply", fire_apply(flow, special=True))
    flow.complete("Task_fire_intake", intake_complete(flow))

    forward = flow.task("Task_fire_forward")
    assert forward.department == "fire" and "第十九条" in forward.legal_basis
    flow.complete(
        "Task_fire_forward",
        {"forwarded_date": flow.today(), "forward_letter_file": flow.attachment()},
    )
    assert flow.inbox() == []  # waiting for the provincial experts

    flow.advance(days=14)
    assert flow.inbox() == []  # 20 working days have not passed
    flow.advance(days=16)
    assert flow.inbox() == [("fire", "Task_fire_expert_chase")]
    flow.complete("Task_fire_expert_chase", {"chase_date": flow.today(), "chase_method": "公函"})
    assert flow.inbox() == []  # chasing does not end the wait

    flow.message("expert_review_returned", EXPERTS_FAILED)
    assert flow.inbox() == [("fire", "Task_fire_technical_review")]
    assert flow.data()["expert_review"] == EXPERTS_FAILED

    errors = flow.rejects("Task_fire_technical_review", dict(FIRE_TECH_PASS, recommendation="fail"))
    assert list(errors) == ["findings"]
    flow.complete(
        "Task_fire_technical_review",
        dict(FIRE_TECH_PASS, recommendation="fail", findings=["特殊消防设计专家评审未通过"]),
    )
    # a refusal must give reasons
    errors = flow.rejects(
        "Task_fire_opinion",
        {"result": "fail", "opinion_no": "穗海住建消审字〔2026〕9号", "opinion_date": flow.today()},
    )
    assert list(errors) == ["reasons"]
    flow.complete(
        "Task_fire_opinion",
        {
            "result": "fail",
            "reasons": ["特殊消防设计专家评审未通过"],
            "opinion_no": "穗海住建消审字〔2026〕9号",
            "opinion_date": flow.today(),
        },
    )
    assert flow.status == "completed"
    data = flow.data()
    assert data["fire_design_result"] == "fail"
    assert data["fire_design_reasons"] == ["特殊消防设计专家评审未通过"]


def test_experts_answering_in_time_means_no_chase(sqlite_db):
    deploy_processes(sqlite_db)
    flow = Flow.start(sqlite_db, KEY, fire_start())
    flow.complete("Task_fire_apply", fire_apply(flow, special=True))
    flow.complete("Task_fire_intake", intake_complete(flow))
    flow.complete(
        "Task_fire_forward",
        {"forwarded_date": flow.today(), "forward_letter_file": flow.attachment()},
    )
    flow.advance(days=10)
    flow.message("expert_review_returned", dict(EXPERTS_FAILED, result="pass", agree_count=7))
    flow.advance(days=40)
    assert flow.inbox() == [("fire", "Task_fire_technical_review")]


def test_expert_message_is_refused_when_nothing_waits_for_it(sqlite_db):
    deploy_processes(sqlite_db)
    flow = Flow.start(sqlite_db, KEY, fire_start())
    with pytest.raises(Conflict):
        flow.message("expert_review_returned", EXPERTS_FAILED)
    flow.complete("Task_fire_apply", fire_apply(flow, special=False))
    flow.complete("Task_fire_intake", intake_complete(flow))
    with pytest.raises(Conflict):  # no special design: no expert review is awaited
        flow.message("expert_review_returned", EXPERTS_FAILED)
    assert flow.inbox() == [("fire", "Task_fire_technical_review")]


def test_start_form_needs_the_building_uses_and_a_haizhu_site(sqlite_db):
    deploy_processes(sqlite_db)
    assert "building_uses" in start_rejected(sqlite_db, KEY, fire_start(building_uses=[]))
    assert "building_uses.0.use" in start_rejected(
        sqlite_db, KEY, fire_start(building_uses=[{"use": "购物中心", "area_m2": 12000}])
    )
    assert "site_address" in start_rejected(
        sqlite_db, KEY, fire_start(site_address="广州市天河区体育西路1号")
    )
