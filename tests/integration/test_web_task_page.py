"""The task page as its users see it: read-only correction items, project facts with their
titles, and a refused completion that keeps what the officer typed and names the claimer."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest

import forms
from engine.services import tasks, users
from engine.services.actors import Actor
from engine.web import display
from engine.web.formfields import build_fields, parse

from .conftest import PASSWORD
from .process_helpers import (
    PDF,
    Flow,
    correction,
    deploy_processes,
    fire_apply,
    fire_start,
    intake_incomplete,
    jca_apply,
    permit_apply,
    permit_start,
)

KEY = "fire_design_review"
MISSING = ["消防设计文件缺少防火分区图", "设计单位资质证书"]


@pytest.fixture
def now() -> datetime:
    # The pages act after the flow's own steps (which start at 09:00 on the same day).
    return datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _flow_at_intake(app, factory) -> Flow:
    db = app.extensions["pazhou"]["db"]
    deploy_processes(db)
    flow = Flow.start(db, KEY, fire_start(), enterprise_id=factory.enterprise())
    flow.complete("Task_fire_apply", fire_apply(flow))
    return flow


def _officer(factory, username: str, display_name: str) -> str:
    with factory.db.write() as session:
        users.create_user(
            session,
            username,
            PASSWORD,
            "officer",
            "fire",
            display_name=display_name,
            now=factory.now,
        )
    return username


def _html(response) -> str:
    return response.get_data(as_text=True)


def _readonly_block(html: str, name: str) -> str:
    match = re.search(rf'data-readonly="{name}">(.*?)</div>', html, re.S)
    assert match, f"no read-only block for {name}"
    return match.group(1)


def test_correction_task_shows_the_officers_items_read_only_and_keeps_them(app, factory):
    flow = _flow_at_intake(app, factory)
    flow.complete("Task_fire_intake", intake_incomplete(flow, *MISSING))
    task = flow.task("Task_fire_correct")
    client, csrf = factory.web_login(factory.user("enterprise", None, flow.enterprise_id))

    html = _html(client.get(f"/tasks/{task.id}"))
    block = _readonly_block(html, "missing_items")
    assert all(f"<li>{item}</li>" in block for item in MISSING)
    assert 'name="missing_items"' not in html  # nothing to type over

    response = client.post(
        f"/tasks/{task.id}",
        data={
            "csrf_token": csrf,
            "missing_items": "改掉的事项",  # a crafted post cannot change the read-only field
            "correction_note": "已补齐",
            "correction_files__file": (io.BytesIO(PDF), "防火分区图.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, _html(response)
    assert flow.inbox() == [("fire", "Task_fire_intake")]
    assert flow.data()["missing_items"] == MISSING


def test_project_facts_use_titles_yes_no_and_file_links(app, factory):
    flow = _flow_at_intake(app, factory)
    task = flow.task("Task_fire_intake")
    client, _ = factory.web_login(factory.user("officer", "fire"))

    html = _html(client.get(f"/tasks/{task.id}"))
    assert "<dt>项目代码</dt>" in html and "<dt>建设单位统一社会信用代码</dt>" in html
    assert "<dt>project_code</dt>" not in html and "<dt>owner_uscc</dt>" not in html
    assert "<dt>临时性建筑</dt><dd>否</dd>" in html
    assert "False" not in html and "['" not in html
    link = f'href="/cases/{flow.case().case_number}/attachments/{flow.attachment()}">材料.pdf</a>'
    assert link in html

    english = _html(client.get(f"/tasks/{task.id}?lang=en"))
    assert "<dt>Investment project code</dt>" in english and "<dd>No</dd>" in english


def _section(html: str, testid: str) -> str:
    """The project facts (a <dl>) or the earlier decisions (an <ol> of <dl>s)."""
    end = "</ol>" if testid == "decisions" else "</dl>"
    match = re.search(rf'data-testid="{testid}">(.*?){end}', html, re.S)
    assert match, f"no {testid} on the page"
    return match.group(1)


def _person(factory, username: str, role: str, display_name: str, **kwargs) -> str:
    with factory.db.write() as session:
        users.create_user(
            session, username, PASSWORD, role, display_name=display_name, now=factory.now, **kwargs
        )
    return username


# The joint acceptance script's own variables: no form asks for them.
PROCESS_VARIABLES = (
    "review_round",
    "item_results",
    "review_history",
    "acceptance_conditions",
    "failed_items",
    "first_pass",
)


def test_an_item_review_shows_form_fields_only_never_process_variables(app, factory):
    db = app.extensions["pazhou"]["db"]
    deploy_processes(db)
    flow = Flow.start(db, "joint_completion_acceptance", jca_apply(), enterprise_id=None)
    flow.complete("Task_precheck", {"materials_complete": True, "intake_receipt_no": "YS-1"})
    flow.message("bim_model_accepted", {"model_id": "BIM-2026-0001"})
    assert "review_round" in flow.data()  # the case holds them; the page must not show them
    task = flow.task("Task_item_review", "quality_safety")
    client, _ = factory.web_login(factory.user("officer", "quality_safety"))

    for lang, first_pass_label in (("zh", "一次通过"), ("en", "First pass")):
        html = _html(client.get(f"/tasks/{task.id}?lang={lang}"))
        shown = _section(html, "project-facts") + _section(html, "decisions")
        for name in PROCESS_VARIABLES:
            assert name not in shown, (lang, name)
        assert first_pass_label not in shown
        labels = re.findall(r"<dt>(.*?)</dt>", shown)
        assert labels and all(not re.fullmatch(r"[a-z_0-9]+", label) for label in labels), labels
    assert "<dt>项目名称</dt>" in _html(client.get(f"/tasks/{task.id}?lang=zh"))


def test_earlier_decisions_and_a_done_task_name_people_not_logins(app, factory):
    flow = _flow_at_intake(app, factory)
    _person(factory, "fire.officer", "officer", "消防审查员张三", department="fire")
    _person(
        factory,
        f"enterprise.{flow.enterprise_id}",
        "enterprise",
        "建设单位联系人李四",
        enterprise_id=flow.enterprise_id,
    )
    flow.complete("Task_fire_intake", intake_incomplete(flow, *MISSING))
    flow.complete("Task_fire_correct", {**correction(flow, *MISSING), "correction_note": "已补齐"})
    client, _ = factory.web_login(factory.user("officer", "fire"))

    html = _html(client.get(f"/tasks/{flow.task('Task_fire_intake').id}"))
    decisions = _section(html, "decisions")
    assert "消防审查员张三" in decisions and "建设单位联系人李四" in decisions
    assert "fire.officer" not in decisions and f"enterprise.{flow.enterprise_id}" not in decisions
    # The correction's read-only copy of the officer's items is not repeated as its decision.
    assert "（只读）" not in decisions and "已补齐" in decisions
    assert decisions.count(MISSING[0]) == 1  # once, in the officer's own decision

    done = flow.history("Task_fire_intake")[0]
    footer = re.search(r'data-testid="task-done">(.*?)</p>', _html(client.get(f"/tasks/{done.id}")))
    assert footer and "消防审查员张三" in footer.group(1) and "fire.officer" not in footer.group(1)


def test_the_engine_reads_as_system(app):
    with app.test_request_context("/?lang=zh"):
        assert display.person("system") == "系统"
        assert display.person("fire.li", {"fire.li": "李审查员"}) == "李审查员"
    with app.test_request_context("/?lang=en"):
        assert display.person("system") == "System"


def test_an_enterprise_task_awaits_the_enterprise_not_a_claim(app, factory):
    flow = _flow_at_intake(app, factory)
    flow.complete("Task_fire_intake", intake_incomplete(flow, *MISSING))
    task = flow.task("Task_fire_correct")
    enterprise, _ = factory.web_login(factory.user("enterprise", None, flow.enterprise_id))
    staff, _ = factory.web_login(factory.user("officer", "fire"))

    for client, lang, expected in (
        (enterprise, "zh", "待您办理"),
        (enterprise, "en", "Awaiting you"),
        (staff, "zh", "待企业办理"),
        (staff, "en", "Awaiting the enterprise"),
    ):
        html = _html(client.get(f"/tasks/{task.id}?lang={lang}"))
        state = re.search(r'data-testid="task-state">(.*?)</span>', html).group(1)
        assert state == expected, (lang, state)
        page = _html(client.get(f"/cases/{flow.case().case_number}?lang={lang}"))
        holders = re.search(r'data-testid="holders">(.*?)</table>', page, re.S).group(1)
        assert expected in holders and "待认领" not in holders and "Unclaimed" not in holders
        assert "办理人未认领" not in holders and "Not yet claimed" not in holders


def test_a_refused_completion_keeps_the_typed_values_and_names_the_claimer(app, factory):
    flow = _flow_at_intake(app, factory)
    task = flow.task("Task_fire_intake")
    holder = _officer(factory, "fire.li", "李审查员")
    with factory.db.write() as session:
        tasks.claim(session, Actor(holder, "officer", "fire"), task.id)
    other, csrf = factory.web_login(factory.user("officer", "fire"))
    inbox_row = re.search(
        rf'<tr data-task-id="{task.id}".*?</tr>', _html(other.get("/inbox")), re.S
    )
    assert "李审查员" in inbox_row.group(0) and "fire.li" not in inbox_row.group(0)

    page = _html(other.get(f"/tasks/{task.id}"))
    assert "由 李审查员 认领" in page
    assert "此任务已由 李审查员 认领，只有认领人可以提交。" in page
    assert '<fieldset class="plain" disabled>' in page

    typed = {
        "csrf_token": csrf,
        "materials_complete": "false",
        "missing_items": "缺少防火分区图\n缺少设计资质",
        "correction_guidance": "请补齐",
        "intake_date": "2026-03-02",
    }
    response = other.post(f"/tasks/{task.id}", data=typed)
    assert response.status_code == 409
    html = _html(response)
    assert "提交未成功：此任务已由 李审查员 认领。您填写的内容已保留在下方" in html
    assert "缺少防火分区图\n缺少设计资质</textarea>" in html
    assert 'value="请补齐"' in html and 'value="2026-03-02"' in html
    assert flow.task("Task_fire_intake").status == "claimed"  # nothing was completed

    english = _html(other.post(f"/tasks/{task.id}?lang=en", data=typed))
    assert "Not submitted: This task is claimed by 李审查员." in english
    # English says it once: "Claimed by 李审查员", not "Claimed (claimed by 李审查员)".
    header = re.sub(r"<[^>]+>", "", _html(other.get(f"/tasks/{task.id}?lang=en")))
    assert "Claimed by 李审查员" in header and "claimed by 李审查员)" not in header


def test_the_claimer_can_release_the_task(app, factory):
    flow = _flow_at_intake(app, factory)
    task = flow.task("Task_fire_intake")
    client, csrf = factory.web_login(factory.user("officer", "fire"))
    client.post(f"/tasks/{task.id}/claim", data={"csrf_token": csrf, "back": "task"})
    assert 'data-testid="release"' in _html(client.get(f"/tasks/{task.id}"))

    response = client.post(
        f"/tasks/{task.id}/unclaim", data={"csrf_token": csrf}, follow_redirects=True
    )
    assert "任务已释放，其他人可以认领" in _html(response)
    released = flow.task("Task_fire_intake")
    assert released.status == "ready" and released.assignee is None


def _posted(data, prefix=""):
    """Form data as the browser posts it: dotted names, rows numbered, booleans as text."""
    posted = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            posted.update(_posted(value, f"{name}."))
        elif isinstance(value, list):
            for index, row in enumerate(value):
                posted.update(_posted(row, f"{name}.{index}."))
        elif isinstance(value, bool):
            posted[name] = "true" if value else "false"
        else:
            posted[name] = str(value)
    return posted


def test_a_required_read_only_field_is_taken_from_the_case_not_the_post(app, factory):
    """permit_apply's current_phase is required and read-only: the page shows the phase the
    case is in, the enterprise need not (and cannot) send it."""
    db = app.extensions["pazhou"]["db"]
    deploy_processes(db)
    flow = Flow.start(db, "construction_permit_phased", permit_start())
    task = flow.task("Task_permit_apply")
    client, csrf = factory.web_login(factory.user("enterprise", None, flow.enterprise_id))

    html = _html(client.get(f"/tasks/{task.id}"))
    assert "P1 基坑支护和土方开挖" in _readonly_block(html, "current_phase")

    data = permit_apply(flow, "P1")
    data["current_phase"] = "P3"
    response = client.post(f"/tasks/{task.id}", data={"csrf_token": csrf, **_posted(data)})
    assert response.status_code == 302, _html(response)
    assert flow.inbox() == [("housing", "Task_permit_intake")]
    assert flow.data()["current_phase"] == "P1"


def test_a_refused_form_says_so_once_above_the_form(app, factory):
    db = app.extensions["pazhou"]["db"]
    deploy_processes(db)
    flow = Flow.start(db, "construction_permit_phased", permit_start())
    task = flow.task("Task_permit_apply")
    client, csrf = factory.web_login(factory.user("enterprise", None, flow.enterprise_id))

    response = client.post(f"/tasks/{task.id}", data={"csrf_token": csrf})
    html = _html(response)
    assert response.status_code == 422
    assert 'data-testid="error-summary"' in html
    assert "flash-error" not in html  # the summary says it; no second banner at the top
    assert flow.inbox() == [("enterprise", "Task_permit_apply")]


def test_the_api_keeps_read_only_fields_as_the_case_holds_them(app, factory):
    """The same rule without the page: an enterprise posting its own phase (or editing the
    officer's notice items) through the API changes nothing of them."""
    db = app.extensions["pazhou"]["db"]
    deploy_processes(db)
    flow = Flow.start(db, "construction_permit_phased", permit_start())
    task = flow.task("Task_permit_apply")
    api = factory.login(factory.user("enterprise", None, flow.enterprise_id))

    data = permit_apply(flow, "P1")
    data["current_phase"] = "P3"
    response = api.post(f"/api/v1/tasks/{task.id}/complete", json={"data": data})
    assert response.status_code == 200, response.get_json()
    assert flow.inbox() == [("housing", "Task_permit_intake")]
    assert flow.data()["current_phase"] == "P1"


READ_ONLY_FORMS = sorted(
    key
    for key in forms.list_forms()
    if any(sub.get("readOnly") for sub in forms.load_form(key)["properties"].values())
)


def test_the_forms_with_read_only_fields_are_known():
    assert READ_ONLY_FORMS == [
        "cd_correct",
        "fire_correct",
        "permit_apply",
        "permit_correct",
        "permit_start_followup",
    ]


@pytest.mark.parametrize("key", READ_ONLY_FORMS)
def test_every_read_only_field_shows_the_held_value_and_ignores_the_post(key):
    from werkzeug.datastructures import MultiDict

    schema = forms.load_form(key)
    names = [name for name, sub in schema["properties"].items() if sub.get("readOnly")]
    held = {
        name: ["held"] if schema["properties"][name].get("type") == "array" else 1 for name in names
    }
    fields = {f.name: f for f in build_fields(schema, {}, {}, False, held)}
    for name in names:
        assert fields[name].readonly and not fields[name].required
        assert fields[name].value == held[name]
    posted = parse(schema, MultiDict({name: "2" for name in names}), {})
    assert not set(posted) & set(names)
    assert forms.keep_read_only(schema, {name: "2" for name in names}, held) == held
