"""An analyst edits a process in the browser modeler, validates it and deploys a new version."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import expect

from engine import element_names
from engine.bpmn_xml import parse_secure
from engine.definitions import NS
from engine.services import deployments
from engine.services.actors import SYSTEM
from tests.e2e.server import PROCESS_KEY, login


def test_analyst_changes_a_department_validates_and_deploys_a_new_version(page, world):
    login(page, world, "analyst")
    expect(page).to_have_url(world.url("/modeler"))
    page.get_by_test_id("definitions").locator("tr", has_text=PROCESS_KEY).get_by_role(
        "link"
    ).click()
    expect(page.get_by_test_id("modeler-canvas")).to_have_attribute("data-loaded", "true")
    before = int(page.get_by_test_id("current-version").inner_text().lstrip("v"))
    assert shapes_under_the_palette(page) == []
    assert not leaving_asks_first(page)

    page.locator(".djs-element[data-element-id='Task_civil_defense_review']").click()
    properties = page.get_by_test_id("properties")
    expect(properties.locator("[data-prop-id]")).to_have_text("Task_civil_defense_review")
    expect(properties.locator("input[name=formKey]")).to_have_value("cd_design_review")
    properties.locator("select[name=department]").select_option("housing")

    assert leaving_asks_first(page)  # the edit is not deployed yet

    page.get_by_role("button", name="校验").click()
    expect(page.get_by_test_id("modeler-status")).to_have_text("校验通过")
    expect(page.get_by_test_id("problems").locator("li")).to_have_count(0)

    page.get_by_role("button", name="部署新版本").click()
    expect(page).to_have_url(re.compile(rf"/modeler/{PROCESS_KEY}\?deployed={before + 1}$"))
    expect(page.get_by_test_id("current-version")).to_have_text(f"v{before + 1}")
    newest = page.get_by_test_id("versions").locator("tbody tr").first
    expect(newest).to_have_attribute("data-version", str(before + 1))
    expect(newest).to_contain_text("Task_civil_defense_review")
    expect(newest).to_contain_text("部门 人防 → 住建局（施工许可/建管）")

    # Deploying the same diagram again creates nothing, and says so.
    expect(page.get_by_test_id("modeler-canvas")).to_have_attribute("data-loaded", "true")
    page.get_by_role("button", name="部署新版本").click()
    expect(page.get_by_test_id("modeler-status")).to_have_text(f"内容未变化，仍是版本 {before + 1}")
    expect(page).to_have_url(re.compile(rf"\?deployed={before + 1}$"))

    with world.db.read() as session:
        definition = deployments.get_definition(session, PROCESS_KEY)
        root = parse_secure(definition.file.content.encode())
    assert definition.version == before + 1
    props = settings_of(root, "Task_civil_defense_review")
    assert props["department"] == "'housing'"
    assert props["formKey"] == "cd_design_review"


def test_validation_problems_are_shown_on_the_element(page, world):
    open_modeler(page, world)
    page.locator(".djs-element[data-element-id='Task_fire_review']").click()
    form_key = page.get_by_test_id("properties").locator("input[name=formKey]")
    form_key.fill("no_such_form")
    form_key.dispatch_event("change")

    page.get_by_role("button", name="校验").click()
    expect(page.get_by_test_id("problems")).to_contain_text("no_such_form")
    expect(
        page.locator(".djs-element.has-problem[data-element-id='Task_fire_review']")
    ).to_have_count(1)


def shapes_under_the_palette(page) -> list[str]:
    """Ids of diagram shapes the tool palette covers once the diagram is fitted to the page."""
    return page.evaluate(
        """() => {
        const palette = document.querySelector("#canvas .djs-palette").getBoundingClientRect();
        return [...document.querySelectorAll("#canvas .djs-shape")].filter((shape) => {
          const box = shape.getBoundingClientRect();
          return box.left < palette.right && box.right > palette.left
            && box.top < palette.bottom && box.bottom > palette.top;
        }).map((shape) => shape.dataset.elementId);
      }"""
    )


def leaving_asks_first(page) -> bool:
    """Whether the page would make the browser confirm before leaving."""
    return page.evaluate(
        """() => {
        const event = new Event("beforeunload", { cancelable: true });
        window.dispatchEvent(event);
        return event.defaultPrevented;
      }"""
    )


def test_the_decision_table_editor_names_its_views_and_speaks_chinese(page, world):
    dmn = Path(__file__).resolve().parents[2] / "processes" / "required_reviews.dmn"
    with world.db.write() as session:
        deployments.deploy_bundle(
            session, SYSTEM, [(dmn.name, dmn.read_bytes())], datetime.now(UTC), 5 * 1024 * 1024
        )
    login(page, world, "analyst")
    page.goto(world.url(f"/modeler/dmn/{dmn.name}"))
    expect(page.get_by_test_id("dmn-canvas")).to_have_attribute("data-loaded", "true")
    views = page.locator("[data-dmn-views] button")
    expect(views.first).to_have_text("决策关系图")  # not the decision's own name twice
    expect(page.get_by_test_id("dmn-canvas")).to_contain_text("命中策略")
    expect(page.get_by_test_id("dmn-canvas")).not_to_contain_text("Hit policy")


def test_analyst_gives_a_task_and_the_process_english_names(page, world):
    properties = open_modeler(page, world)
    name_en = properties.locator("input[name=name_en]")

    page.locator(".djs-element[data-element-id='Task_fire_review']").click()
    expect(name_en).to_have_value("Fire protection design review")
    page.locator(".djs-element[data-element-id='Task_civil_defense_review']").click()
    expect(name_en).to_have_value("")
    name_en.fill("Civil air defense design review")
    name_en.blur()  # the change is taken when the field is left

    # a gateway has a name too, but no department or form
    page.locator(".djs-element[data-element-id='Gateway_join']").click()
    expect(properties.locator("[data-prop-id]")).to_have_text("Gateway_join")
    expect(properties.locator("select[name=department]")).to_be_hidden()
    name_en.fill("Reviews done")
    name_en.blur()  # the change is taken when the field is left

    # the pool stands for its process: the procedure's English name
    page.locator(".djs-element[data-element-id='Participant_web_review']").click(
        position={"x": 12, "y": 40}
    )
    expect(properties.locator("[data-prop-id]")).to_have_text(PROCESS_KEY)
    expect(name_en).to_have_value("Parallel review (web test)")
    name_en.fill("Parallel review (browser test)")
    name_en.blur()  # the change is taken when the field is left

    page.get_by_role("button", name="校验").click()
    expect(page.get_by_test_id("modeler-status")).to_have_text("校验通过")
    page.get_by_role("button", name="部署新版本").click()
    expect(page).to_have_url(re.compile(rf"/modeler/{PROCESS_KEY}\?deployed=\d+$"))
    newest = page.get_by_test_id("versions").locator("tbody tr").first
    expect(newest).to_contain_text("英文名称 — → Civil air defense design review")

    with world.db.read() as session:
        definition = deployments.get_definition(session, PROCESS_KEY)
        root = parse_secure(definition.file.content.encode())
    assert definition.name_en == "Parallel review (browser test)"
    english = {
        element.get("id"): element_names.name_en_of(element)
        for element in root.iter()
        if isinstance(element.tag, str) and element.get("id")
    }
    assert english["Task_civil_defense_review"] == "Civil air defense design review"
    assert english["Gateway_join"] == "Reviews done"
    assert english["Task_fire_review"] == "Fire protection design review"


def test_after_typing_in_the_panel_one_click_selects_another_element(page, world):
    """The field is left by clicking the diagram, not by Tab: the click selects, the edit stays."""
    properties = open_modeler(page, world)
    shown = properties.locator("[data-prop-id]")

    def field(name):
        return properties.locator(f"[name={name}]")

    def shape(element_id):
        return page.locator(f".djs-element[data-element-id='{element_id}']")

    # a user-task field, then a click on an event
    shape("Task_enterprise_reply").click()
    expect(shown).to_have_text("Task_enterprise_reply")
    field("legal_basis").fill("《浏览器测试依据》")
    shape("StartEvent_apply").click()
    expect(shown).to_have_text("StartEvent_apply")
    expect(field("name")).to_have_value("企业申请")
    expect(field("department")).to_be_hidden()

    # the English name of the event, then a click on a user task
    field("name_en").fill("Application received")
    shape("Task_enterprise_reply").click()
    expect(shown).to_have_text("Task_enterprise_reply")
    expect(field("legal_basis")).to_have_value("《浏览器测试依据》")
    expect(field("legal_basis_en")).to_have_value("")

    # the English legal basis, then a click on the event and back
    field("legal_basis_en").fill("Browser test provisions, Art. 1")
    shape("StartEvent_apply").click()
    expect(shown).to_have_text("StartEvent_apply")
    expect(field("legal_basis_en")).to_be_hidden()
    shape("Task_enterprise_reply").click()
    expect(field("legal_basis_en")).to_have_value("Browser test provisions, Art. 1")

    # the name of the user task, then a click on another user task
    field("name").fill("企业回复意见")
    shape("Task_fire_review").click()
    expect(shown).to_have_text("Task_fire_review")
    expect(field("name")).to_have_value("消防设计审查")
    expect(field("formKey")).to_have_value("fire_opinion")
    label = shape("Task_enterprise_reply").locator("text")
    expect(label).to_have_text("企业回复意见")

    # the rename is one step on the command stack
    page.keyboard.press("Control+z")
    expect(label).to_have_text("企业回复审查意见")
    page.keyboard.press("Control+y")
    expect(label).to_have_text("企业回复意见")

    page.get_by_role("button", name="部署新版本").click()
    expect(page).to_have_url(re.compile(rf"/modeler/{PROCESS_KEY}\?deployed=\d+$"))
    with world.db.read() as session:
        definition = deployments.get_definition(session, PROCESS_KEY)
        root = parse_secure(definition.file.content.encode())
    props = settings_of(root, "Task_enterprise_reply")
    assert props["name"] == "企业回复意见"
    assert props["legal_basis"] == "《浏览器测试依据》"
    assert props["legal_basis_en"] == "Browser test provisions, Art. 1"
    assert props["formKey"] == "rect_submit"
    start = root.find(".//bpmn:startEvent[@id='StartEvent_apply']", NS)
    assert element_names.name_en_of(start) == "Application received"


def open_modeler(page, world):
    login(page, world, "analyst")
    page.goto(world.url(f"/modeler/{PROCESS_KEY}"))
    expect(page.get_by_test_id("modeler-canvas")).to_have_attribute("data-loaded", "true")
    return page.get_by_test_id("properties")


def exported_xml(page) -> str:
    """The diagram as the page would save it now."""
    return page.evaluate("async () => (await window.pazhouModeler.saveXML({ format: true })).xml")


def exported(page):
    return parse_secure(exported_xml(page).encode())


def exported_settings(page, element_id: str) -> dict[str, str]:
    """The name and the SpiffWorkflow properties of one element in the page's XML."""
    return settings_of(exported(page), element_id)


def pool_and_process_names(page) -> tuple[str, str]:
    """The pool's name and its process's in the page's XML (deploys store the process's)."""
    root = exported(page)
    pool = root.find(".//bpmn:participant[@id='Participant_web_review']", NS)
    process = root.find(f".//bpmn:process[@id='{PROCESS_KEY}']", NS)
    return pool.get("name"), process.get("name")


def settings_of(root, element_id: str) -> dict[str, str]:
    element = root.find(f".//*[@id='{element_id}']")
    settings = {
        p.get("name"): p.get("value")
        for p in element.findall(
            "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS
        )
    }
    settings["name"] = element.get("name")
    return settings


def test_every_panel_edit_undoes_and_redoes_in_one_step(page, world):
    properties = open_modeler(page, world)
    task = "Task_fire_review"
    page.locator(f".djs-element[data-element-id='{task}']").click()
    expect(properties.locator("[data-prop-id]")).to_have_text(task)
    department = properties.locator("select[name=department]")
    legal_basis = properties.locator("input[name=legal_basis]")
    legal_basis_en = properties.locator("input[name=legal_basis_en]")
    name_en = properties.locator("input[name=name_en]")
    before = exported_settings(page, task)
    assert before.get("department") != "'housing'"
    xml_before = exported_xml(page)

    # four edits, each field left by Tab or by the panel (not by the diagram)
    department.select_option("housing")
    department.blur()
    legal_basis.fill("《撤销测试依据》")
    legal_basis.blur()
    legal_basis_en.fill("Undo test provisions, Art. 1")
    legal_basis_en.blur()
    name_en.fill("Fire review (undo test)")
    name_en.blur()
    edited = {
        "department": "'housing'",
        "legal_basis": "《撤销测试依据》",
        "legal_basis_en": "Undo test provisions, Art. 1",
        "name_en": "Fire review (undo test)",
    }
    assert exported_settings(page, task) == {**before, **edited}
    xml_edited = exported_xml(page)

    def state(*kept):
        """The edits in kept applied, the others not."""
        settings = {**before, **{k: edited[k] for k in kept}}
        return {k: v for k, v in settings.items() if v is not None}

    def shows(settings):
        assert exported_settings(page, task) == settings
        expect(department).to_have_value(settings.get("department", "").strip("'"))
        expect(legal_basis).to_have_value(settings.get("legal_basis", ""))
        expect(legal_basis_en).to_have_value(settings.get("legal_basis_en", ""))
        expect(name_en).to_have_value(settings.get("name_en", ""))

    # Ctrl+Z takes back one edit at a time, newest first, in the XML and in the panel
    for settings in [
        state("department", "legal_basis", "legal_basis_en"),
        state("department", "legal_basis"),
        state("department"),
        state(),
    ]:
        page.keyboard.press("Control+z")
        shows(settings)
    assert exported_xml(page) == xml_before

    # Ctrl+Y does them again, oldest first
    for settings in [
        state("department"),
        state("department", "legal_basis"),
        state("department", "legal_basis", "legal_basis_en"),
        state(*edited),
    ]:
        page.keyboard.press("Control+y")
        shows(settings)
    assert exported_xml(page) == xml_edited


def test_undoing_the_first_property_of_an_element_leaves_its_xml_as_it_was(page, world):
    properties = open_modeler(page, world)
    flow = "Flow_reply_done"  # a sequence flow without extension elements
    xml_before = exported_xml(page)
    assert exported(page).find(f".//*[@id='{flow}']/bpmn:extensionElements", NS) is None
    page.evaluate(
        """(id) => {
        const modeler = window.pazhouModeler;
        modeler.get("selection").select(modeler.get("elementRegistry").get(id));
      }""",
        flow,
    )
    expect(properties.locator("[data-prop-id]")).to_have_text(flow)
    name_en = properties.locator("input[name=name_en]")
    name_en.fill("  Done  ")
    name_en.blur()
    expect(name_en).to_have_value("Done")  # as stored
    assert exported_settings(page, flow) == {"name": None, "name_en": "Done"}
    xml_edited = exported_xml(page)

    page.keyboard.press("Control+z")
    expect(name_en).to_have_value("")
    assert exported_xml(page) == xml_before
    page.keyboard.press("Control+y")
    expect(name_en).to_have_value("Done")
    assert exported_xml(page) == xml_edited


def test_undoing_a_pool_rename_restores_the_process_name_too(page, world):
    properties = open_modeler(page, world)
    page.locator(".djs-element[data-element-id='Participant_web_review']").click(
        position={"x": 12, "y": 40}
    )
    expect(properties.locator("[data-prop-id]")).to_have_text(PROCESS_KEY)
    name = properties.locator("input[name=name]")

    old = pool_and_process_names(page)
    assert old[0] == old[1]
    name.fill("并联审查（撤销测试）")
    name.blur()
    assert pool_and_process_names(page) == ("并联审查（撤销测试）", "并联审查（撤销测试）")

    page.keyboard.press("Control+z")
    assert pool_and_process_names(page) == old
    expect(name).to_have_value(old[0])
    page.keyboard.press("Control+y")
    assert pool_and_process_names(page) == ("并联审查（撤销测试）", "并联审查（撤销测试）")
    expect(name).to_have_value("并联审查（撤销测试）")


def test_the_panel_follows_canvas_renames_and_undo_without_reselecting(page, world):
    properties = open_modeler(page, world)
    shape = page.locator(".djs-element[data-element-id='Gateway_join']")
    label = page.locator(".djs-element[data-element-id='Gateway_join_label'] text")
    shape.click()
    expect(properties.locator("[data-prop-id]")).to_have_text("Gateway_join")
    name = properties.locator("input[name=name]")
    old = name.input_value()
    assert old

    # the label edited on the canvas
    shape.dblclick()
    editor = page.locator(".djs-direct-editing-parent")
    expect(editor).to_be_visible()
    page.keyboard.press("Control+a")
    page.keyboard.type("审查全部完成")
    page.keyboard.press("Enter")
    expect(editor).to_be_hidden()
    expect(label).to_have_text("审查全部完成")
    expect(properties.locator("[data-prop-id]")).to_have_text("Gateway_join")
    expect(name).to_have_value("审查全部完成")

    page.keyboard.press("Control+z")
    expect(label).to_have_text(old)
    expect(name).to_have_value(old)
    page.keyboard.press("Control+y")
    expect(name).to_have_value("审查全部完成")

    # a field being typed in keeps what is typed while the others follow the diagram
    name_en = properties.locator("input[name=name_en]")
    xml_renamed = exported_xml(page)
    name_en.fill("Reviews finished")
    name_en.blur()
    name_en.fill("Reviews all fin")  # still typing: not left yet
    page.evaluate("() => window.pazhouModeler.get('commandStack').undo()")
    expect(name).to_have_value("审查全部完成")
    expect(name_en).to_have_value("Reviews all fin")
    expect(name_en).to_be_focused()
    assert exported_xml(page) == xml_renamed
    page.evaluate("() => window.pazhouModeler.get('commandStack').undo()")
    expect(name).to_have_value(old)
    expect(name_en).to_have_value("Reviews all fin")


def test_a_pool_renamed_on_the_canvas_renames_its_process(page, world):
    """The process's name is what a deploy stores as the procedure's: it follows the pool's
    label edited on the canvas as it follows the panel, and one undo takes both back."""
    open_modeler(page, world)

    old = pool_and_process_names(page)
    page.locator(".djs-element[data-element-id='Participant_web_review']").dblclick(
        position={"x": 12, "y": 40}
    )
    editor = page.locator(".djs-direct-editing-parent")
    expect(editor).to_be_visible()
    page.keyboard.press("Control+a")
    page.keyboard.type("并联审查（画布改名）")
    page.keyboard.press("Enter")
    expect(editor).to_be_hidden()
    assert pool_and_process_names(page) == ("并联审查（画布改名）", "并联审查（画布改名）")

    page.keyboard.press("Control+z")
    assert pool_and_process_names(page) == old
    page.keyboard.press("Control+y")
    assert pool_and_process_names(page) == ("并联审查（画布改名）", "并联审查（画布改名）")
