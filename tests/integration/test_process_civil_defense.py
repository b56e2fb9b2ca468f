"""civil_defense_review through the service layer: D3 decides build / relocation fee / none
from the project; shelter design review (pass, fail with reasons); relocation fee decided,
paid by message, or refused (then the shelter must be built)."""

from __future__ import annotations

from .process_helpers import (
    CD_REVIEW_PASS,
    Flow,
    cd_design_apply,
    cd_start,
    correction,
    deploy_processes,
    intake_complete,
    intake_incomplete,
    start_rejected,
)

KEY = "civil_defense_review"


def test_high_rise_housing_builds_a_shelter_and_passes_review(db, flow_cls):
    deploy_processes(db)
    flow = flow_cls.start(db, KEY, cd_start())  # 18-floor residential, 2,500 m² ground floor
    data = flow.data()
    assert data["civil_defense_delivery"] == "build"
    assert data["civil_defense_area_m2"] == 2500
    assert flow.inbox() == [("enterprise", "Task_cd_design_apply")]

    flow.complete("Task_cd_design_apply", cd_design_apply(flow))
    intake = flow.task("Task_cd_intake")
    assert intake.department == "civil_defense" and intake.due_at is not None
    flow.complete("Task_cd_intake", intake_incomplete(flow, "人防工程施工图"))
    assert flow.inbox() == [("enterprise", "Task_cd_correct")]
    flow.complete("Task_cd_correct", correction(flow, "人防工程施工图"))
    flow.complete("Task_cd_intake", intake_complete(flow, "RF-SL-2026-1"))
    review = flow.task("Task_cd_design_review")
    assert review.department == "civil_defense" and review.sla_working_days == 20
    flow.complete("Task_cd_design_review", CD_REVIEW_PASS)

    assert flow.status == "completed"
    data = flow.data()
    assert data["civil_defense_outcome"] == "design_passed"
    assert data["civil_defense_review_result"] == "pass"


def test_nine_floor_office_of_1800_m2_needs_no_shelter(sqlite_db):
    deploy_processes(sqlite_db)
    office = cd_start(
        building_class="public",
        floors_above=9,
        foundation_depth_m=2.0,
        above_ground_m2=1800,
        ground_floor_area_m2=200,
    )
    flow = Flow.start(sqlite_db, KEY, office)
    data = flow.data()
    assert data["civil_defense_obligation"] is False
    assert data["civil_defense_delivery"] == "none"
    assert flow.status == "completed" and flow.inbox() == []

    # the same office with a tenth floor must provide a shelter
    flow = Flow.start(sqlite_db, KEY, dict(office, floors_above=10))
    assert flow.data()["civil_defense_delivery"] == "build"
    assert flow.inbox() == [("enterprise", "Task_cd_design_apply")]


def test_d3_on_real_projects(sqlite_db):
    deploy_processes(sqlite_db)
    projects = [
        # (project, delivery, area m²)
        (cd_start(building_class="industrial", floors_above=2, above_ground_m2=30000), "none", 0),
        # a 3-floor 5,000 m² public building: 2% = 100 m² is below the 150 m² threshold -> fee
        (
            cd_start(
                building_class="public", floors_above=3, foundation_depth_m=1, above_ground_m2=5000
            ),
            "relocation_fee",
            100,
        ),
        # 12 floors but a 120 m² ground floor: below the threshold -> fee
        (cd_start(floors_above=12, ground_floor_area_m2=120), "relocation_fee", 120),
        # deep foundation, site unsuitable for a shelter -> fee instead of building
        (
            cd_start(floors_above=6, foundation_depth_m=4, civil_defense_site_unsuitable=True),
            "relocation_fee",
            2500,
        ),
    ]
    for project, delivery, area in projects:
        flow = Flow.start(sqlite_db, KEY, project)
        data = flow.data()
        assert (data["civil_defense_delivery"], data["civil_defense_area_m2"]) == (
            delivery,
            area,
        ), project
        expected_inbox = {
            "none": [],
            "relocation_fee": [("enterprise", "Task_cd_fee_apply")],
            "build": [("enterprise", "Task_cd_design_apply")],
        }[delivery]
        assert flow.inbox() == expected_inbox


def test_relocation_fee_decided_then_paid(sqlite_db):
    deploy_processes(sqlite_db)
    flow = Flow.start(
        sqlite_db,
        KEY,
        cd_start(
            building_class="public", floors_above=3, foundation_depth_m=1, above_ground_m2=5000
        ),
    )
    # geological reasons need evidence and an explanation
    errors = flow.rejects("Task_cd_fee_apply", {"relocation_reason": "rock_or_quicksand"})
    assert {"evidence_files", "reason_note"} <= set(errors)
    flow.complete("Task_cd_fee_apply", {"relocation_reason": "area_below_threshold"})
    decision = flow.task("Task_cd_fee_decision")
    assert decision.department == "civil_defense"
    errors = flow.rejects(
        "Task_cd_fee_decision", {"decision": "approve", "decision_date": flow.today()}
    )
    assert {"fee_area_m2", "fee_rate_cny_per_m2", "decision_no"} <= set(errors)
    flow.complete(
        "Task_cd_fee_decision",
        {
            "decision": "approve",
            "fee_area_m2": 100,
            "fee_rate_cny_per_m2": 1800,
            "decision_no": "穗海人防易〔2026〕1号",
            "decision_date": flow.today(),
        },
    )
    assert flow.inbox() == [] and flow.status == "running"  # waiting for the payment
    data = flow.data()
    assert data["civil_defense_outcome"] == "relocation_fee_decided"
    assert data["civil_defense_fee_amount_cny"] == 180000

    flow.message("civil_defense_fee_paid", {"amount_cny": 180000, "paid_date": flow.today()})
    assert flow.status == "completed"
    data = flow.data()
    assert data["civil_defense_outcome"] == "relocation_fee_paid"
    assert data["fee_payment"] == {"amount_cny": 180000, "paid_date": flow.today()}


def test_relocation_refused_then_the_shelter_design_fails_with_reasons(sqlite_db):
    deploy_processes(sqlite_db)
    flow = Flow.start(
        sqlite_db,
        KEY,
        cd_start(
            building_class="public",
            floors_above=3,
            foundation_depth_m=1,
            above_ground_m2=50000,
            civil_defense_site_unsuitable=True,
        ),
    )
    assert flow.data()["civil_defense_delivery"] == "relocation_fee"
    flow.complete(
        "Task_cd_fee_apply",
        {
            "relocation_reason": "rock_or_quicksand",
            "reason_note": "场地下为岩层",
            "evidence_files": [flow.attachment()],
        },
    )
    errors = flow.rejects(
        "Task_cd_fee_decision", {"decision": "refuse", "decision_date": flow.today()}
    )
    assert list(errors) == ["reasons"]
    flow.complete(
        "Task_cd_fee_decision",
        {"decision": "refuse", "reasons": ["地质条件可以结建"], "decision_date": flow.today()},
    )
    # refused relocation: the enterprise must now submit a shelter design
    assert flow.inbox() == [("enterprise", "Task_cd_design_apply")]
    flow.complete("Task_cd_design_apply", cd_design_apply(flow))
    flow.complete("Task_cd_intake", intake_complete(flow))
    failed = dict(CD_REVIEW_PASS, area_meets_requirement=False, result="fail")
    assert list(flow.rejects("Task_cd_design_review", failed)) == ["reasons"]
    flow.complete("Task_cd_design_review", dict(failed, reasons=["人防面积不足应建面积"]))

    assert flow.status == "completed"
    data = flow.data()
    assert data["civil_defense_outcome"] == "design_failed"
    assert data["civil_defense_reasons"] == ["人防面积不足应建面积"]


def test_start_form_checks(sqlite_db):
    deploy_processes(sqlite_db)
    assert "floors_above" in start_rejected(sqlite_db, KEY, cd_start(floors_above=-1))
    missing = cd_start()
    del missing["ground_floor_area_m2"]
    assert "ground_floor_area_m2" in start_rejected(sqlite_db, KEY, missing)
