"""joint_completion_acceptance through the service layer: one-window precheck with a
supplement, the CIM/BIM message, parallel item reviews in each department's inbox, the joint
site inspection, conditional pass, and the rectification loop that re-reviews ONLY the
departments whose items failed; first_pass (一次通过) is recorded."""

from __future__ import annotations

from .process_helpers import (
    Flow,
    deploy_processes,
    item_fail,
    item_pass,
    jca_apply,
    rect_notice,
    rect_submit,
    rect_verify,
    site_inspection,
    start_rejected,
    walk_rectification_round,
)

KEY = "joint_completion_acceptance"
ALL_DEPARTMENTS = ["archives", "civil_defense", "fire", "planning", "quality_safety"]


def precheck_and_bim(flow: Flow) -> None:
    assert flow.stage == "completion_precheck"
    precheck = flow.task("Task_precheck")
    assert precheck.department == "service_center" and precheck.sla_working_days == 1
    flow.complete("Task_precheck", {"materials_complete": True, "intake_receipt_no": "YS-2026-001"})
    flow.message("bim_model_accepted", {"model_id": "BIM-2026-0001"})
    assert flow.stage == "joint_acceptance"


def review_departments(flow: Flow) -> list[str]:
    return sorted(t.department for t in flow.tasks_of("Task_item_review"))


def review_round(flow: Flow, failing: set[str] = frozenset()) -> None:
    for task in flow.tasks_of("Task_item_review"):
        flow.complete(
            "Task_item_review",
            item_fail() if task.department in failing else item_pass(),
            task=task,
        )


def issue_opinion(flow: Flow) -> None:
    opinion = flow.task("Task_issue_opinion")
    assert opinion.department == "housing"
    flow.complete(
        "Task_issue_opinion",
        {
            "opinion_no": "穗海联验〔2026〕1号",
            "issue_date": flow.today(),
            "opinion_file": flow.attachment(),
            "building_data_checked": True,
            "signer": "副局长",
        },
    )


def test_everything_passes_first_time(db, flow_cls):
    deploy_processes(db)
    flow = flow_cls.start(db, KEY, jca_apply())
    precheck_and_bim(flow)
    assert review_departments(flow) == ALL_DEPARTMENTS
    review_round(flow)
    site = flow.task("Task_joint_site_inspection")
    assert site.department == "quality_safety"
    flow.complete("Task_joint_site_inspection", site_inspection(flow))
    issue_opinion(flow)

    assert flow.status == "completed"
    assert flow.stage == "completed"
    data = flow.data()
    assert data["first_pass"] is True
    assert data["acceptance_outcome"] == "pass"
    assert [h["round"] for h in data["review_history"]] == [1]


def test_fire_fails_twice_rectified_twice_and_only_fire_reviews_again(sqlite_db):
    deploy_processes(sqlite_db)
    flow = Flow.start(sqlite_db, KEY, jca_apply())
    precheck_and_bim(flow)
    assert review_departments(flow) == ALL_DEPARTMENTS
    review_round(flow, failing={"fire"})
    flow.complete("Task_joint_site_inspection", site_inspection(flow))

    for round_no in (2, 3):
        # failed items go to rectification, run by quality & safety supervision
        assert flow.inbox() == [("quality_safety", "Task_issue_notice")]
        assert flow.stage == "joint_acceptance"
        flow.complete("Task_issue_notice", rect_notice(flow))
        assert flow.stage == "rectifying"
        assert flow.inbox() == [("enterprise", "Task_enterprise_rectify")]
        flow.complete("Task_enterprise_rectify", rect_submit(flow))
        flow.complete("Task_verify", rect_verify(flow, passed=True))

        # re-review: only the fire department, which failed
        assert flow.stage == "joint_acceptance"
        assert flow.inbox() == [("fire", "Task_item_review")]
        assert flow.data()["review_round"] == round_no
        review_round(flow, failing={"fire"} if round_no == 2 else set())
        flow.complete("Task_joint_site_inspection", site_inspection(flow))

    issue_opinion(flow)
    assert flow.status == "completed" and flow.stage == "completed"
    data = flow.data()
    assert data["first_pass"] is False
    assert data["acceptance_outcome"] == "pass"
    history = [
        (h["round"], sorted((r["department"], r["result"]) for r in h["item_results"]))
        for h in data["review_history"]
    ]
    assert history == [
        (
            1,
            [
                ("archives", "pass"),
                ("civil_defense", "pass"),
                ("fire", "fail"),
                ("planning", "pass"),
                ("quality_safety", "pass"),
            ],
        ),
        (2, [("fire", "fail")]),
        (3, [("fire", "pass")]),
    ]
    # every fire review and both rectification rounds are in the audit of completed tasks
    assert [t.department for t in flow.history("Task_item_review")].count("fire") == 3
    assert len(flow.history("Task_verify")) == 2


def test_precheck_supplement_and_waiting_for_the_bim_model(sqlite_db):
    deploy_processes(sqlite_db)
    flow = Flow.start(sqlite_db, KEY, jca_apply())
    # a one-time notice must list what is missing
    assert "missing_items" in flow.rejects("Task_precheck", {"materials_complete": False})
    flow.complete(
        "Task_precheck",
        {"materials_complete": False, "missing_items": ["竣工图", "工程质量保修书"]},
    )
    assert flow.inbox() == [("enterprise", "Task_supplement")]
    assert flow.stage == "completion_precheck"
    flow.complete(
        "Task_supplement",
        {
            "responses": [
                {"missing_item": "竣工图", "response": "已补交"},
                {"missing_item": "工程质量保修书", "response": "已补交"},
            ],
            "supplement_files": [flow.attachment()],
        },
    )
    flow.complete("Task_precheck", {"materials_complete": True, "intake_receipt_no": "YS-2026-002"})
    # materials complete, but the BIM model has not passed the CIM platform check
    assert flow.inbox() == [] and flow.stage == "completion_precheck"
    flow.message("bim_model_accepted", {"model_id": "BIM-2026-0001"})
    assert flow.stage == "joint_acceptance"
    assert review_departments(flow) == ALL_DEPARTMENTS


def test_conditional_pass_needs_the_enterprise_commitment(sqlite_db):
    deploy_processes(sqlite_db)
    flow = Flow.start(sqlite_db, KEY, jca_apply(fire_track="filing", civil_defense_required=False))
    precheck_and_bim(flow)
    assert review_departments(flow) == ["archives", "fire", "planning", "quality_safety"]
    conditional = {"result": "pass_with_conditions", "opinion": "基本符合", "reviewer": "审查员乙"}
    planning = flow.task("Task_item_review", "planning")
    assert "conditions" in flow.rejects("Task_item_review", conditional, department="planning")
    flow.complete("Task_item_review", dict(conditional, conditions=["补种行道树"]), task=planning)
    review_round(flow)
    flow.complete("Task_joint_site_inspection", site_inspection(flow))

    assert flow.inbox() == [("enterprise", "Task_conditions_commitment")]
    flow.complete(
        "Task_conditions_commitment",
        {
            "commitments": [
                {"condition": "补种行道树", "measure": "两个月内补种", "due_date": flow.today(60)}
            ],
            "commitment_file": flow.attachment(),
            "signatory": "张三",
        },
    )
    issue_opinion(flow)
    data = flow.data()
    assert data["acceptance_outcome"] == "pass_with_conditions"
    assert data["first_pass"] is False
    assert data["acceptance_conditions"] == [
        {"item": "规划条件核实", "department": "planning", "conditions": ["补种行道树"]}
    ]


def test_failed_site_inspection_rectified_then_inspected_again(sqlite_db):
    deploy_processes(sqlite_db)
    flow = Flow.start(sqlite_db, KEY, jca_apply(fire_track="none", civil_defense_required=False))
    precheck_and_bim(flow)
    assert review_departments(flow) == ["archives", "planning", "quality_safety"]
    review_round(flow)
    # an inspection needs two inspectors; a failed one needs findings that cite a clause
    one = dict(site_inspection(flow), inspectors=["监督员甲"])
    assert "inspectors" in flow.rejects("Task_joint_site_inspection", one)
    no_findings = dict(site_inspection(flow), site_result="fail", reasons=["x"])
    assert "findings" in flow.rejects("Task_joint_site_inspection", no_findings)
    no_clause = site_inspection(flow, "fail")
    del no_clause["findings"][0]["clause"]
    assert "findings.0.clause" in flow.rejects("Task_joint_site_inspection", no_clause)
    flow.complete("Task_joint_site_inspection", site_inspection(flow, "fail", severity="较大"))

    data = flow.data()
    assert data["rect_severity"] == "较大"
    assert data["rect_problems"][0]["clause"] == "JGJ 80-2016 第4.1.1条"
    walk_rectification_round(flow, passed=True, notice_type="局部暂停施工")
    # a partial stop must be lifted before the project is inspected again
    assert flow.inbox() == [("quality_safety", "Task_resume_work")]
    flow.complete("Task_resume_work", {"resume_date": flow.today(), "signer": "科长丙"})
    # no department failed: no item is reviewed again, only the site
    assert flow.inbox() == [("quality_safety", "Task_joint_site_inspection")]
    flow.complete("Task_joint_site_inspection", site_inspection(flow))
    issue_opinion(flow)
    assert flow.data()["first_pass"] is False
    assert flow.status == "completed"


def test_application_form_conditions(sqlite_db):
    deploy_processes(sqlite_db)
    no_report = jca_apply()
    del no_report["fire_commissioning_report"]
    assert "fire_commissioning_report" in start_rejected(sqlite_db, KEY, no_report)
    no_area = jca_apply()
    del no_area["civil_defense_area_m2"]
    assert "civil_defense_area_m2" in start_rejected(sqlite_db, KEY, no_area)
