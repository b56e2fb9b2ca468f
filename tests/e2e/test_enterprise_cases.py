"""An enterprise follows its cases: the stage bar moves, other enterprises' cases stay hidden."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.server import login


def test_enterprise_sees_its_case_move_to_the_next_stage(page, world):
    case_number = world.start_case("ent.a", "琶洲会展配套商业综合体")
    login(page, world, "ent.a")
    expect(page).to_have_url(world.url("/cases"))
    item = page.locator(f"[data-case='{case_number}']")
    expect(item.locator("[aria-current=step]")).to_have_attribute("data-stage-code", "permit_p1")

    item.get_by_role("link").first.click()
    holders = page.get_by_test_id("holders")
    expect(holders).to_contain_text("消防审验")
    expect(holders).to_contain_text("《建设工程消防设计审查验收管理暂行规定》第十五条")
    expect(holders).to_contain_text("法定时限 15 个工作日")
    expect(page.get_by_test_id("my-tasks")).to_have_count(0)

    world.complete(case_number, "Task_fire_review")
    world.complete(case_number, "Task_civil_defense_review")

    page.reload()
    expect(page.get_by_test_id("case-stage")).to_have_text("施工中")
    expect(page.locator("[aria-current=step]")).to_have_attribute(
        "data-stage-code", "under_construction"
    )
    expect(page.get_by_test_id("my-tasks")).to_contain_text("企业回复审查意见")
    expect(page.get_by_test_id("timeline")).to_contain_text("阶段变更")
    diagram = page.get_by_test_id("diagram")
    expect(diagram).to_have_attribute("data-loaded", "true")
    expect(diagram.locator(".highlight-done[data-element-id='Task_fire_review']")).to_have_count(1)
    expect(
        diagram.locator(".highlight-active[data-element-id='Task_enterprise_reply']")
    ).to_have_count(1)
    # Lanes are named by department code in the BPMN; the enterprise reads department names.
    expect(diagram.locator("[data-element-id='Lane_fire'] text").first).to_have_text("消防审验")
    expect(diagram.locator("[data-element-id='Lane_enterprise'] text").first).to_have_text("企业")
    drawing = diagram.locator("svg[data-element-id]")
    for code in ("fire", "civil_defense", "enterprise"):
        expect(drawing).not_to_contain_text(code)

    page.goto(world.url(f"/cases/{case_number}?lang=en"))
    lane = page.get_by_test_id("diagram").locator("[data-element-id='Lane_fire'] text").first
    expect(lane).to_have_text("Fire design review and acceptance")
    page.goto(world.url(f"/cases/{case_number}?lang=zh"))

    page.goto(world.url("/cases"))
    expect(page.locator(f"[data-case='{case_number}'] [aria-current=step]")).to_have_attribute(
        "data-stage-code", "under_construction"
    )


def test_enterprise_cannot_open_another_enterprises_case(page, world):
    other = world.start_case("ent.b", "海珠湾滨江住宅一期")
    login(page, world, "ent.a")
    expect(page.get_by_test_id("case-list")).not_to_contain_text(other)

    response = page.goto(world.url(f"/cases/{other}"))
    assert response.status == 404
    expect(page.get_by_test_id("error-page")).to_contain_text("404")
    expect(page.locator("body")).not_to_contain_text("海珠湾滨江住宅一期")

    response = page.goto(world.url(f"/cases/{other}/diagram.json"))
    assert response.status == 404


def test_on_a_phone_the_diagram_opens_on_the_current_step_at_a_readable_size(browser, world):
    case_number = world.start_case("ent.a", "琶洲会展配套商业综合体")
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        login(page, world, "ent.a")
        page.goto(world.url(f"/cases/{case_number}"))
        diagram = page.get_by_test_id("diagram")
        expect(diagram).to_have_attribute("data-loaded", "true")
        box = diagram.bounding_box()
        active = diagram.locator(".highlight-active[data-element-id='Task_fire_review']")
        shape = active.bounding_box()
        # A task is 100 units wide: fitted whole on a phone it was ~25 px, its name unreadable.
        assert shape["width"] >= 70, shape
        centre = shape["x"] + shape["width"] / 2, shape["y"] + shape["height"] / 2
        assert box["x"] <= centre[0] <= box["x"] + box["width"], (box, shape)
        assert box["y"] <= centre[1] <= box["y"] + box["height"], (box, shape)

        # The whole procedure is one click away, and the current step one more.
        page.get_by_role("button", name="全图").click()
        assert active.bounding_box()["width"] < shape["width"] / 2
        page.get_by_role("button", name="当前环节").click()
        assert active.bounding_box()["width"] >= 70
    finally:
        context.close()


def test_the_diagram_names_its_steps_in_english_on_english_pages(page, world):
    case_number = world.start_case("ent.a")
    login(page, world, "ent.a")

    page.goto(world.url(f"/cases/{case_number}?lang=en"))
    diagram = page.get_by_test_id("diagram")
    expect(diagram).to_have_attribute("data-loaded", "true")

    def label(element_id: str):
        return diagram.locator(f"[data-element-id='{element_id}'] text").first

    # bpmn-js wraps a long name over lines: compare the words
    expect(label("Task_fire_review")).to_have_text(
        re.compile(r"Fire\s*protection\s*design\s*review")
    )
    expect(label("Participant_web_review")).to_have_text(re.compile(r"Parallel\s*review"))
    expect(label("Gateway_split_label")).to_have_text(re.compile(r"Reviews\s*in\s*parallel"))
    # no name_en in the BPMN: the Chinese name stays
    expect(label("Task_civil_defense_review")).to_have_text("人防设计审查")

    page.goto(world.url(f"/cases/{case_number}?lang=zh"))
    expect(page.get_by_test_id("diagram")).to_have_attribute("data-loaded", "true")
    expect(label("Task_fire_review")).to_have_text("消防设计审查")
    expect(label("Gateway_split_label")).to_have_text("并联审查")
