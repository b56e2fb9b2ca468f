"""An officer works the inbox: claim, open the task, fix the form's errors, complete."""

from __future__ import annotations

from playwright.sync_api import expect

from engine.services import tasks
from engine.services.actors import SYSTEM
from tests.e2e.server import NOW, VALID_DATA, login


def test_officer_fixes_field_errors_and_completes_the_task(page, world):
    case_number = world.start_case("ent.a", "琶洲数字经济总部大楼")
    task_id = world.open_task_id(case_number, "Task_fire_review")

    login(page, world, "fire.officer")
    expect(page).to_have_url(world.url("/inbox"))
    row = page.locator(f"tr[data-task-id='{task_id}']")
    expect(row).to_contain_text(case_number)
    expect(row.locator(".badge")).to_have_class("badge sla-green")

    page.fill("input[name=q]", case_number)
    page.click("form.filters button[type=submit]")
    expect(page.locator("tr[data-task-id]")).to_have_count(1)

    row.get_by_role("button", name="认领").click()
    expect(page.locator(".flash-success")).to_contain_text("任务已认领")
    expect(row).to_contain_text("fire.officer")
    row.get_by_role("link", name="办理").click()

    expect(page.get_by_test_id("task-title")).to_have_text("消防设计审查")
    expect(page.get_by_text("《建设工程消防设计审查验收管理暂行规定》第十五条")).to_be_visible()
    diagram = page.get_by_test_id("diagram")
    expect(diagram).to_have_attribute("data-loaded", "true")
    expect(diagram.locator(".highlight-active[data-element-id='Task_fire_review']")).to_have_count(
        1
    )

    # Fail without reasons and without an opinion number: the server names each field.
    page.select_option("select[name=result]", "fail")
    page.fill("input[name=opinion_date]", "2026-03-02")
    page.get_by_test_id("complete").click()
    expect(page.get_by_test_id("error-summary")).to_be_visible()
    expect(page.locator("[data-error-for=opinion_no]")).to_contain_text("此项为必填项")
    expect(page.locator("[data-error-for=reasons]")).to_be_visible()
    # What was typed survives the round trip.
    expect(page.locator("select[name=result]")).to_have_value("fail")
    expect(page.locator("input[name=opinion_date]")).to_have_value("2026-03-02")

    page.select_option("select[name=result]", "pass")
    page.fill("input[name=opinion_no]", "穗消审字〔2026〕018号")
    page.fill("input[name='expert_review.experts_count']", "5")
    page.get_by_test_id("complete").click()

    expect(page).to_have_url(world.url("/inbox"))
    expect(page.locator(".flash-success")).to_contain_text("任务已办结")
    expect(page.locator(f"tr[data-task-id='{task_id}']")).to_have_count(0)
    with world.db.read() as session:
        task = tasks.get_task(session, SYSTEM, task_id)
        assert (task.status, task.completed_by) == ("completed", "fire.officer")
        assert task.data["opinion_no"] == "穗消审字〔2026〕018号"
        assert task.data["expert_review"] == {"experts_count": 5}


LONG_LABEL = "New technology/process/material not conforming to national standards"


def test_the_task_page_fits_a_phone_and_a_laptop_without_sideways_scrolling(browser, world):
    case_number = world.start_case("ent.a", "琶洲会展配套商业综合体" * 4)
    # A long unbroken value (a code, a URL) must wrap inside the facts list (dl.facts).
    long_code = "SXSZ-" + "0123456789" * 15
    fire_task = world.open_task_id(case_number, "Task_fire_review")
    with world.db.write() as session:
        data = dict(VALID_DATA["Task_fire_review"], opinion_no=long_code)
        tasks.complete(session, SYSTEM, fire_task, data, NOW)
    task_id = world.open_task_id(case_number, "Task_civil_defense_review")

    for width, lang in ((390, "zh"), (1366, "en"), (1366, "zh")):
        context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
        context.set_default_timeout(10_000)
        page = context.new_page()
        try:
            login(page, world, "cd.officer")
            page.goto(world.url(f"/tasks/{task_id}?lang={lang}"))
            expect(page.get_by_test_id("decisions")).to_contain_text(long_code)
            # Some forms have labels this long (the fire application's English labels).
            page.evaluate(f"document.querySelector('dl.facts dt').textContent = '{LONG_LABEL}'")
            scroll, inner, narrowest = page.evaluate(
                """[document.documentElement.scrollWidth, window.innerWidth,
                    Math.min(...[...document.querySelectorAll('dl.facts dd')]
                        .map((dd) => dd.getBoundingClientRect().width))]"""
            )
            assert scroll <= inner, (width, lang, scroll, inner)
            assert narrowest >= 150, (width, lang, narrowest)  # not one character per line
            # English text in a CJK face set “quotes” full-width: Latin faces come first.
            font = page.evaluate("getComputedStyle(document.body).fontFamily")
            assert font.startswith("system-ui" if lang == "en" else '"PingFang SC"'), font
        finally:
            context.close()
