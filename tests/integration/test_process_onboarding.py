"""project_onboarding (交地即开工) through the service layer: D1 per building use, D3, D2, D7
on real project data, the kickoff-meeting escalation timer, and the parallel call activities
(fire design review, civil defense review, phased permits) each landing in the right inbox."""

from __future__ import annotations

from pathlib import Path

from engine import element_names
from engine.bpmn_xml import parse_secure

from .process_helpers import (
    HEADER,
    Flow,
    deploy_processes,
    start_rejected,
    walk_cd_build_review,
    walk_fire_review,
    walk_permit_phase,
)

KEY = "project_onboarding"


def register(**overrides) -> dict:
    """A 30-floor mixed-use project: a 12,000 m² shopping mall (商场) and offices."""
    data = {
        **HEADER,
        "land_handover_date": "2026-03-02",
        "kickoff_deadline_working_days": 5,
        "is_key_project": True,
        "building_uses": [{"use": "商场", "area_m2": 12000}, {"use": "办公", "area_m2": 30000}],
        "building_class": "public",
        "is_class1_highrise_residential": False,
        "needs_fire_design": True,
        "single_building_area_m2": 38000,
        "height_m": 48,
        "gfa_m2": 60000,
        "below_ground_m2": 18000,
        "floors_above": 12,
        "foundation_depth_m": 12,
        "key_city": True,
        "above_ground_m2": 42000,
        "ground_floor_area_m2": 4000,
        "civil_defense_site_unsuitable": False,
        "floors_below": 3,
        "has_basement": True,
        "pit_depth_m": 13,
        "owner_requests_phasing": True,
        "needs_road_occupation": True,
        "needs_road_excavation": False,
    }
    data.update(overrides)
    return data


OFFICE_9_FLOORS = {
    "building_uses": [{"use": "办公", "area_m2": 1800}],
    "single_building_area_m2": 1800,
    "gfa_m2": 1800,
    "above_ground_m2": 1800,
    "ground_floor_area_m2": 200,
    "below_ground_m2": 0,
    "floors_above": 9,
    "floors_below": 0,
    "height_m": 33,
    "foundation_depth_m": 2,
    "has_basement": False,
    "pit_depth_m": 2,
    "needs_road_occupation": False,
}


def assign_cso(flow: Flow) -> None:
    flow.complete(
        "Task_assign_cso",
        {
            "cso_user_id": "housing.chen",
            "cso_name": "陈六",
            "cso_phone": "13900139000",
            "task_force_members": [{"name": "赵七", "department": "fire"}],
        },
    )


def kickoff(flow: Flow) -> None:
    flow.complete(
        "Task_kickoff_meeting",
        {
            "meeting_date": flow.today(),
            "attendees": [
                {"name": "陈六", "department": "housing"},
                {"name": "张三", "department": "enterprise"},
            ],
            "minutes_file": flow.attachment(),
            "issues_raised": [
                {
                    "category": "供电",
                    "description": "临时用电未接入",
                    "owner_department": "utilities",
                }
            ],
        },
    )


def plan(flow: Flow) -> None:
    flow.complete(
        "Task_one_enterprise_plan",
        {
            "plan_summary": "并联办理消防、人防审查和分阶段施工许可",
            "required_reviews_confirmed": True,
            "milestones": [
                {"name": "取得P1许可", "target_date": flow.today(20), "owner_department": "housing"}
            ],
        },
    )


def test_mall_and_offices_onboarded_to_construction(db, flow_cls):
    deploy_processes(db)
    flow = flow_cls.start(db, KEY, register())
    assert flow.stage == "onboarding"
    assert flow.inbox() == [("housing", "Task_assign_cso")]
    assign_cso(flow)
    assert flow.inbox() == [("housing", "Task_kickoff_meeting")]
    kickoff(flow)
    assert flow.inbox() == [("task_force", "Task_one_enterprise_plan")]

    data = flow.data()
    assert data["fire_special_reasons"] == ["A14-3"]  # 商场 over 10,000 m²
    assert data["fire_track"] == "special"
    assert data["civil_defense_delivery"] == "build"
    assert data["permit_phases"] == ["P1", "P2", "P3"]
    reviews = {(r["item"], r["department"]) for r in data["required_reviews"]}
    assert {
        ("fire_design_review", "fire"),
        ("civil_defense_design", "civil_defense"),
        ("road_occupation", "roads"),
        ("expert_review_pit", "quality_safety"),
    } <= reviews

    plan(flow)
    # the three procedures run in parallel, each starting with the enterprise's application
    assert flow.inbox() == [
        ("enterprise", "Task_cd_design_apply"),
        ("enterprise", "Task_fire_apply"),
        ("enterprise", "Task_permit_apply"),
    ]
    assert flow.stage == "permit_p1"

    walk_fire_review(flow)
    walk_cd_build_review(flow)
    assert flow.inbox() == [("enterprise", "Task_permit_apply")]
    walk_permit_phase(flow, "P1", 1)
    assert flow.stage == "permit_p2"
    walk_permit_phase(flow, "P2", 2)
    assert flow.stage == "permit_p3"
    walk_permit_phase(flow, "P3", 3)
    assert flow.stage == "under_construction"
    flow.message("construction_started", {"start_date": flow.today()}, actor=flow.enterprise)

    assert flow.status == "completed"
    assert flow.data()["onboarding_result"] == {
        "fire_track": "special",
        "fire_design_result": "pass",
        "civil_defense_delivery": "build",
        "permit_outcome": "issued",
    }


def test_d1_shopping_mall_over_10000_m2_is_a_special_fire_project(sqlite_db):
    deploy_processes(sqlite_db)
    mall = {"building_uses": [{"use": "商场", "area_m2": 12000}], "single_building_area_m2": 12000}
    flow = Flow.start(sqlite_db, KEY, register(**mall))
    assign_cso(flow)
    kickoff(flow)
    data = flow.data()
    assert data["fire_special_reasons"] == ["A14-3"]
    assert data["fire_track"] == "special"
    plan(flow)
    assert ("enterprise", "Task_fire_apply") in flow.inbox()

    # 9,000 m² of shops is below the threshold: fire design is only filed, no review
    small = {"building_uses": [{"use": "商场", "area_m2": 9000}], "single_building_area_m2": 9000}
    flow = Flow.start(sqlite_db, KEY, register(**small))
    assign_cso(flow)
    kickoff(flow)
    data = flow.data()
    assert data["fire_special_reasons"] == []
    assert data["fire_track"] == "filing"
    plan(flow)
    assert ("enterprise", "Task_fire_apply") not in flow.inbox()


def test_nine_floor_office_no_shelter_no_fire_review_one_permit(sqlite_db):
    deploy_processes(sqlite_db)
    flow = Flow.start(sqlite_db, KEY, register(**OFFICE_9_FLOORS))
    assign_cso(flow)
    kickoff(flow)
    data = flow.data()
    assert data["civil_defense_obligation"] is False
    assert data["civil_defense_delivery"] == "none"
    assert data["fire_track"] == "filing"
    assert data["permit_phases"] == ["ALL"]  # no basement, 2 m pit
    items = {r["item"] for r in data["required_reviews"]}
    assert "fire_filing" in items and "fire_design_review" not in items
    assert not {i for i in items if i.startswith("civil_defense")}
    assert "road_occupation" not in items and "dangerous_works_scheme" not in items

    plan(flow)
    assert flow.inbox() == [("enterprise", "Task_permit_apply")]  # no fire or civil defense task
    walk_permit_phase(flow, "ALL", 1)
    flow.message("construction_started", {"start_date": flow.today()})
    assert flow.status == "completed"
    assert flow.data()["onboarding_result"] == {
        "fire_track": "filing",
        "fire_design_result": "not_applicable",
        "civil_defense_delivery": "none",
        "permit_outcome": "issued",
    }


def test_late_kickoff_meeting_is_escalated_to_leadership(sqlite_db):
    deploy_processes(sqlite_db)
    flow = Flow.start(sqlite_db, KEY, register())  # land handed over 2026-03-02, 5 working days
    assign_cso(flow)
    flow.advance_to(flow.now.replace(day=6))
    assert flow.inbox() == [("housing", "Task_kickoff_meeting")]
    flow.advance_to(flow.now.replace(day=11))
    assert flow.inbox() == [
        ("housing", "Task_kickoff_meeting"),
        ("leadership", "Task_kickoff_escalation"),
    ]
    assert "instruction" in flow.rejects("Task_kickoff_escalation", {})
    flow.complete(
        "Task_kickoff_escalation",
        {"instruction": "三日内召开现场协调会", "new_meeting_date": flow.today(3)},
    )
    assert flow.inbox() == [("housing", "Task_kickoff_meeting")]  # the meeting is still due
    kickoff(flow)
    assert flow.inbox() == [("task_force", "Task_one_enterprise_plan")]


def test_forms_reject_incomplete_registration_and_meetings(sqlite_db):
    deploy_processes(sqlite_db)
    assert "owner_uscc" in start_rejected(sqlite_db, KEY, register(owner_uscc="91350100M000100Y4"))
    assert "land_handover_date" in start_rejected(
        sqlite_db, KEY, register(land_handover_date="2026-02-30")
    )
    missing = register()
    del missing["pit_depth_m"]
    assert "pit_depth_m" in start_rejected(sqlite_db, KEY, missing)

    flow = Flow.start(sqlite_db, KEY, register())
    assign_cso(flow)
    one_attendee = {
        "meeting_date": flow.today(),
        "attendees": [{"name": "陈六", "department": "housing"}],
        "minutes_file": flow.attachment(),
    }
    assert "attendees" in flow.rejects("Task_kickoff_meeting", one_attendee)
    flow.complete(
        "Task_kickoff_meeting", dict(one_attendee, attendees=one_attendee["attendees"] * 2)
    )
    unconfirmed = {"plan_summary": "x", "required_reviews_confirmed": False, "milestones": []}
    errors = flow.rejects("Task_one_enterprise_plan", unconfirmed)
    assert {"required_reviews_confirmed", "milestones"} <= set(errors)


def test_tasks_of_the_called_procedures_carry_their_own_english_titles(sqlite_db):
    """A called process's task is titled from that process's BPMN (name and name_en alike)."""
    deploy_processes(sqlite_db)
    flow = Flow.start(sqlite_db, KEY, register())
    assign_cso(flow)
    kickoff(flow)
    plan(flow)

    processes = Path(__file__).parents[2] / "processes"
    for filename, element_id in (
        ("fire_design_review.bpmn", "Task_fire_apply"),
        ("civil_defense_review.bpmn", "Task_cd_design_apply"),
        ("construction_permit_phased.bpmn", "Task_permit_apply"),
    ):
        root = parse_secure((processes / filename).read_bytes())
        [element] = root.xpath(f"//*[@id='{element_id}']")
        task = flow.task(element_id)
        assert (task.title, task.title_en) == (
            element.get("name"),
            element_names.name_en_of(element),
        )
        assert task.title_en
