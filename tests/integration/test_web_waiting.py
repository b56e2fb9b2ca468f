"""A case with no open task says what it waits for: a joint completion acceptance case whose
materials are complete waits for the CIM platform's BIM model check, and the enterprise
reads that on its case list and case page instead of an empty holder table."""

from __future__ import annotations

import json
import re

from .process_helpers import Flow, deploy_processes, jca_apply
from .test_web_cases import JCA, case_item, enterprise_client

COMPLETE = {"materials_complete": True, "intake_receipt_no": "YS-2026-001"}


def holder_card(page: str) -> str:
    """The "who holds my case" card of the case page."""
    match = re.search(
        r"<h2>(?:谁在办理我的案件|Who is handling my case|谁在办理此案件|Who is handling this case)</h2>(.*?)</section>",
        page,
        re.S,
    )
    assert match, page
    return match.group(1)


def test_a_case_waiting_for_the_bim_check_says_so_until_the_message_arrives(app, db, factory):
    deploy_processes(db)
    enterprise_id = factory.enterprise()
    flow = Flow.start(db, JCA, jca_apply(), enterprise_id=enterprise_id)
    number = flow.case().case_number
    client = enterprise_client(factory, enterprise_id)

    # While the one-stop window checks the materials, the window holds the case.
    item = case_item(client.get("/cases?lang=zh").get_data(as_text=True), number)
    assert "综合服务窗口/代办" in item and "等待外部回复" not in item

    # Materials complete: no task is open, the case waits for the CIM platform.
    flow.complete("Task_precheck", COMPLETE)
    assert flow.open_tasks() == []
    item = case_item(client.get("/cases?lang=zh").get_data(as_text=True), number)
    assert 'data-testid="waiting-for"' in item
    assert "等待外部回复" in item and "CIM平台 BIM 模型审查" in item
    assert "无法定时限" not in item and "bim_model_accepted" not in item
    english = case_item(client.get("/cases?lang=en").get_data(as_text=True), number)
    assert "Waiting for" in english and "CIM platform BIM model check" in english

    page = client.get(f"/cases/{number}?lang=zh").get_data(as_text=True)
    card = holder_card(page)
    assert "等待外部回复：<strong>CIM平台 BIM 模型审查</strong>" in card
    assert "<table" not in card  # no table of headers over nothing
    english = holder_card(client.get(f"/cases/{number}?lang=en").get_data(as_text=True))
    assert "Waiting for: <strong>CIM platform BIM model check</strong>" in english

    # The API says the same, by message name.
    api = factory.login(factory.user("enterprise", enterprise_id=enterprise_id))
    assert api.get(f"/api/v1/cases/{number}").get_json()["waiting_for"] == ["bim_model_accepted"]
    listed = api.get("/api/v1/cases").get_json()["items"]
    assert [case["waiting_for"] for case in listed] == [["bim_model_accepted"]]

    # The model passes: the departments hold the case, the waiting text is gone.
    flow.message("bim_model_accepted", {"model_id": "BIM-2026-0001"})
    assert api.get(f"/api/v1/cases/{number}").get_json()["waiting_for"] == []
    item = case_item(client.get("/cases?lang=zh").get_data(as_text=True), number)
    assert "等待外部回复" not in item and "CIM平台 BIM 模型审查" not in item
    assert "消防审验" in item
    page = client.get(f"/cases/{number}?lang=zh").get_data(as_text=True)
    card = holder_card(page)
    assert "等待外部回复" not in card and 'data-testid="holders"' in card

    # The timeline names the message readably, in either language.
    timeline = re.search(r'data-testid="timeline">(.*?)</ol>', page, re.S).group(1)
    received = re.search(r'data-event-type="message.received">(.*?)</li>', timeline, re.S)
    assert received and "收到外部消息" in received.group(1)
    assert "CIM平台 BIM 模型审查" in received.group(1)
    assert "bim_model_accepted" not in timeline
    english = client.get(f"/cases/{number}?lang=en").get_data(as_text=True)
    timeline = re.search(r'data-testid="timeline">(.*?)</ol>', english, re.S).group(1)
    assert "CIM platform BIM model check" in timeline and "bim_model_accepted" not in timeline


def test_the_diagram_gets_department_names_for_its_lane_codes(app, db, factory):
    deploy_processes(db)
    enterprise_id = factory.enterprise()
    flow = Flow.start(db, JCA, jca_apply(), enterprise_id=enterprise_id)
    client = enterprise_client(factory, enterprise_id)
    number = flow.case().case_number
    for lang, names in (
        ("zh", {"fire": "消防审验", "enterprise": "企业"}),
        ("en", {"fire": "Fire design review and acceptance", "enterprise": "Enterprise"}),
    ):
        page = client.get(f"/cases/{number}?lang={lang}").get_data(as_text=True)
        attr = re.search(r"data-lane-names='([^']*)'", page).group(1)
        lane_names = json.loads(attr)
        for code, name in names.items():
            assert lane_names[code] == name
