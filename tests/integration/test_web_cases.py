"""What an enterprise sees of its cases: who holds each one, until when, whether it must act,
which stages the case really went through, a readable timeline, and web pages for bad URLs."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import event

from engine.services import users
from engine.web.display import local_date

from .conftest import PASSWORD
from .process_helpers import Flow, deploy_processes, fire_start, jca_apply, pdf

JCA = "joint_completion_acceptance"
MISSING = {"materials_complete": False, "missing_items": ["竣工图", "工程质量保修书"]}


def case_item(page: str, case_number: str) -> str:
    """The <li> of one case on the cases page."""
    match = re.search(
        rf'<li class="card case-item" data-case="{case_number}">(.*?)</li>\s*(?=<li class="card|</ul>)',
        page,
        re.S,
    )
    assert match, page
    return match.group(1)


def stage_states(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-stage-code="([a-z0-9_]+)" data-state="([a-z]+)"', html))


def enterprise_client(factory, enterprise_id: int):
    client, _ = factory.web_login(factory.user("enterprise", enterprise_id=enterprise_id))
    return client


def test_my_cases_names_the_holder_the_due_date_and_asks_for_action_only_when_needed(
    app, db, factory
):
    deploy_processes(db)
    enterprise_id = factory.enterprise()
    flow = Flow.start(db, JCA, jca_apply(), enterprise_id=enterprise_id)
    number = flow.case().case_number
    due = local_date(flow.task("Task_precheck").due_at)
    client = enterprise_client(factory, enterprise_id)

    item = case_item(client.get("/cases").get_data(as_text=True), number)
    assert "综合服务窗口/代办" in item  # the one-stop window holds the case
    assert due in item and "剩余" in item  # until when, and what that means
    assert "需要您办理" not in item

    english = case_item(client.get("/cases?lang=en").get_data(as_text=True), number)
    assert "One-stop service window" in english and "Your action needed" not in english

    # The window asks for missing documents: now the enterprise holds the case.
    flow.complete("Task_precheck", MISSING)
    item = case_item(client.get("/cases?lang=zh").get_data(as_text=True), number)
    assert 'data-testid="action-needed"' in item and "需要您办理" in item
    assert "企业办理" in item and "综合服务窗口/代办" not in item
    english = case_item(client.get("/cases?lang=en").get_data(as_text=True), number)
    assert "Your action needed" in english


def test_my_cases_reads_a_bounded_number_of_queries_whatever_the_page_holds(app, db, factory):
    deploy_processes(db)
    enterprise_id = factory.enterprise()
    Flow.start(db, JCA, jca_apply(), enterprise_id=enterprise_id)
    client = enterprise_client(factory, enterprise_id)
    engine = app.extensions["pazhou"]["db"].engine  # the app's own pool
    statements: list[str] = []

    def count(*args):
        statements.append(args[2])

    def queries() -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get("/cases").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    one_case = queries()
    for _ in range(2):
        flow = Flow.start(db, JCA, jca_apply(), enterprise_id=enterprise_id)
    flow.complete("Task_precheck", MISSING)
    Flow.start(db, "fire_design_review", fire_start(), enterprise_id=enterprise_id)
    assert client.get("/cases").get_data(as_text=True).count('class="card case-item"') == 4
    assert queries() == one_case  # no query per case


def _jca_at_item_reviews(db, factory) -> tuple[Flow, int]:
    """A joint acceptance case past its pre-check and BIM check: the departments review."""
    deploy_processes(db)
    enterprise_id = factory.enterprise()
    flow = Flow.start(db, JCA, jca_apply(), enterprise_id=enterprise_id)
    flow.complete("Task_precheck", {"materials_complete": True, "intake_receipt_no": "YS-1"})
    flow.message("bim_model_accepted", {"model_id": "BIM-2026-0001"})
    return flow, enterprise_id


def test_a_joint_acceptance_case_shows_no_permit_stage_as_done(app, db, factory):
    flow, enterprise_id = _jca_at_item_reviews(db, factory)
    assert flow.stage == "joint_acceptance"
    client = enterprise_client(factory, enterprise_id)
    number = flow.case().case_number

    for html in (
        case_item(client.get("/cases").get_data(as_text=True), number),
        client.get(f"/cases/{number}").get_data(as_text=True),
    ):
        states = stage_states(html)
        assert states["completion_precheck"] == "done"  # the case went through it
        assert states["joint_acceptance"] == "current"
        for never in ("onboarding", "permit_p1", "permit_p2", "permit_p3", "rectifying"):
            assert states[never] != "done", (never, states)
        assert states["permit_p1"] == "skipped" and states["completed"] == "todo"


def test_a_case_without_stages_shows_its_current_step_not_an_empty_bar(app, db, factory):
    deploy_processes(db)
    enterprise_id = factory.enterprise()
    flow = Flow.start(db, "fire_design_review", fire_start(), enterprise_id=enterprise_id)
    assert flow.stage is None
    (task,) = flow.open_tasks()
    client = enterprise_client(factory, enterprise_id)

    item = case_item(client.get("/cases").get_data(as_text=True), flow.case().case_number)
    assert 'data-testid="stages"' not in item
    step = re.search(r'data-testid="current-step">(.*?)</p>', item, re.S).group(1)
    assert task.department == "enterprise"  # the fire procedure opens with the application
    assert task.title in step and "企业办理" in step
    assert "需要您办理" in item

    page = client.get(f"/cases/{flow.case().case_number}").get_data(as_text=True)
    assert 'data-testid="stages"' not in page and 'data-testid="case-stage"' not in page
    assert task.title in re.search(r'data-testid="current-step">(.*?)</p>', page, re.S).group(1)
    assert "<h2>谁在办理我的案件</h2>" in page

    # an officer reads the same page about someone else's case
    officer, _ = factory.web_login(factory.user("officer", "fire"))
    staff_page = officer.get(f"/cases/{flow.case().case_number}").get_data(as_text=True)
    assert "<h2>谁在办理此案件</h2>" in staff_page and "我的案件</h2>" not in staff_page


def test_the_case_page_shows_readable_events_names_overdue_and_file_fields(app, db, factory):
    deploy_processes(db)
    with db.write() as session:
        users.create_user(
            session,
            "service_center.officer",
            PASSWORD,
            "officer",
            "service_center",
            now=factory.now,
            display_name="窗口办事员王芳",
        )
    enterprise_id = factory.enterprise()
    # Two files both named report.pdf: only the field they were given for tells them apart.
    files = {
        "completion_report_file": pdf("report.pdf"),
        "archives_transfer_list": pdf("report.pdf"),
    }
    flow = Flow.start(db, JCA, jca_apply(**files), enterprise_id=enterprise_id)
    flow.complete("Task_precheck", {"materials_complete": True, "intake_receipt_no": "YS-1"})
    flow.message("bim_model_accepted", {"model_id": "BIM-2026-0001"})
    # Long after the departments' review deadlines.
    app.extensions["pazhou"]["clock"].advance(timedelta(days=60))
    client = enterprise_client(factory, enterprise_id)
    number = flow.case().case_number

    page = client.get(f"/cases/{number}").get_data(as_text=True)
    timeline = re.search(r'data-testid="timeline">(.*?)</ol>', page, re.S).group(1)
    for label in ("案件发起", "任务到达", "任务办结", "阶段变更", "收到外部消息"):
        assert label in timeline, label
    for code in ("task.created", "case.stage_changed", "case.started"):
        assert f">{code}<" not in timeline  # the code is an attribute, not text
    assert "窗口办事员王芳" in timeline and ">service_center.officer<" not in timeline

    holders = re.search(r'data-testid="holders">(.*?)</table>', page, re.S).group(1)
    assert "已超期" in holders  # the inbox's words, not only a red date

    files = re.search(r'data-testid="files">(.*?)</ul>', page, re.S).group(1)
    for title in ("工程竣工验收报告", "城建档案移交清单"):
        assert f'<span class="file-field">{title}</span>: <a' in files, title
    assert files.count(">report.pdf</a>") == 2

    english = client.get(f"/cases/{number}?lang=en").get_data(as_text=True)
    assert "Case started" in english and "Task received" in english and "Overdue" in english
    assert '<span class="file-field">Completion acceptance report</span>' in english


def test_mistyped_web_addresses_get_the_web_error_page_and_the_api_keeps_problem_json(
    app, factory, anonymous
):
    client, _ = factory.web_login(factory.user("officer", "fire"))
    for path in ("/inbox/", "/cases/", "/nonexistent", "/tasks/abc"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.mimetype == "text/html", path
        page = response.get_data(as_text=True)
        assert 'data-testid="error-page"' in page and "页面不存在" in page, path
        assert "The requested URL was not found" not in page
        assert 'data-nav="inbox"' in page  # the logged-in user keeps the menu

    english = client.get("/nonexistent?lang=en")
    assert english.status_code == 404 and "Page not found" in english.get_data(as_text=True)

    wrong_method = client.delete("/cases")
    assert wrong_method.status_code == 405 and wrong_method.mimetype == "text/html"
    assert "不支持此操作" in wrong_method.get_data(as_text=True)
    assert "GET" in wrong_method.headers["Allow"]

    # Not logged in: still a page, leading to the login.
    assert anonymous.get("/nonexistent").mimetype == "text/html"

    for api in (client, anonymous):
        problem = api.get("/api/v1/nope")
        assert problem.status_code == 404 and problem.mimetype == "application/problem+json"
        assert problem.get_json()["status"] == 404


def test_the_deadline_is_said_once_with_its_count_in_words(app, db, factory):
    deploy_processes(db)
    enterprise_id = factory.enterprise()
    flow = Flow.start(db, JCA, jca_apply(), enterprise_id=enterprise_id)
    assert flow.task("Task_precheck").sla_working_days == 1
    client = enterprise_client(factory, enterprise_id)
    number = flow.case().case_number

    def holders(lang: str) -> str:
        page = client.get(f"/cases/{number}?lang={lang}").get_data(as_text=True)
        return re.search(r'data-testid="holders">(.*?)</table>', page, re.S).group(1)

    chinese = holders("zh")
    assert chinese.count("剩余 1 个工作日") == 1
    assert "(1 工作日)" not in chinese and "剩余 1 工作日" not in chinese
    assert "法定时限 1 个工作日" in chinese  # the legal limit, in the legal basis column
    english = holders("en")
    assert english.count("1 working day left") == 1
    assert "working days" not in english and "Left" not in english
    assert "statutory limit 1 working day" in english

    item = case_item(client.get("/cases?lang=en").get_data(as_text=True), number)
    assert "1 working day left" in item and "working days" not in item


def test_the_english_case_list_joins_departments_with_commas(app, db, factory):
    flow, enterprise_id = _jca_at_item_reviews(db, factory)
    assert len(flow.tasks_of("Task_item_review")) > 1  # several departments hold the case
    client = enterprise_client(factory, enterprise_id)
    number = flow.case().case_number

    def departments(lang: str) -> str:
        item = case_item(client.get(f"/cases?lang={lang}").get_data(as_text=True), number)
        return re.search(r'data-testid="holder-departments">(.*?)</strong>', item, re.S).group(1)

    english = departments("en")
    assert "、" not in english and ", " in english
    chinese = departments("zh")
    assert "、" in chinese and ", " not in chinese


def test_english_dates_and_stage_names_do_not_break_inside_a_word(app, db, factory):
    """English is longer: on a phone "Started 2026-11-30" broke as "2026-11-/30" and the stage
    "Completion pre-check" as "pre-/check". A date stays on one line; a stage's hyphen does not
    break (U+2011), so the name wraps between its words."""
    deploy_processes(db)
    enterprise_id = factory.enterprise()
    flow = Flow.start(db, JCA, jca_apply(), enterprise_id=enterprise_id)
    case = flow.case()
    client = enterprise_client(factory, enterprise_id)

    item = case_item(client.get("/cases?lang=en").get_data(as_text=True), case.case_number)
    assert f'<span class="nowrap">Started {local_date(case.started_at)}</span>' in item
    page = client.get(f"/cases/{case.case_number}?lang=en").get_data(as_text=True)
    assert ">Completion pre\u2011check</li>" in page and "Completion pre-check</li>" not in page
    holders = re.search(r'data-testid="holders">(.*?)</table>', page, re.S).group(1)
    assert re.search(r'data-label="Since" class="nowrap">\d{4}-\d\d-\d\d \d\d:\d\d<', holders)
    # the English page names its language, which picks Latin faces before the CJK ones
    assert '<html lang="en">' in page
