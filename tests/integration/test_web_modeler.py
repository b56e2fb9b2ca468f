"""The analyst's modeler page: what a new version changed, and a deploy that changes nothing."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask_babel import Babel

from engine.definitions import DeployedContext, analyse_bundle
from engine.services import deployments
from engine.web.views_modeler import _in_page_language
from tests.conftest import fixture_bytes
from tests.factories import deploy

RENAMED = {
    b'name="sla_working_days" value="5"': b'name="sla_working_days" value="3"',
    "施工许可审查".encode(): "施工许可技术审查".encode(),
}


def newest_summary(page: str) -> str:
    rows = re.findall(r'<tr data-version="(\d+)">(.*?)</tr>', page, re.S)
    version, row = max(rows, key=lambda found: int(found[0]))
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))


def test_a_version_lists_the_changed_task_by_name_with_old_and_new_values(app, factory, now):
    db = app.extensions["pazhou"]["db"]
    deploy(db, now, "sla_pause.bpmn")
    deploy(db, now, "sla_pause.bpmn", RENAMED)
    client, _ = factory.web_login(factory.user("analyst"))

    summary = newest_summary(client.get("/modeler/sla_pause").get_data(as_text=True))

    assert "修改 施工许可技术审查 Task_housing_review" in summary
    assert "名称 施工许可审查 → 施工许可技术审查" in summary
    assert "办理时限（工作日） 5 → 3" in summary
    # Neither the process nor the definitions count as changed because a task inside did.
    assert "Defs_sla_pause" not in summary
    assert "sla_pause" not in summary

    english = newest_summary(client.get("/modeler/sla_pause?lang=en").get_data(as_text=True))
    assert "Time limit (working days) 5 → 3" in english


def test_deploying_unchanged_xml_says_it_is_unchanged_and_keeps_the_version(app, factory, now):
    db = app.extensions["pazhou"]["db"]
    deploy(db, now, "sla_pause.bpmn")
    client, csrf = factory.web_login(factory.user("analyst"))
    headers = {"X-CSRF-Token": csrf}

    def deploy_page(content: bytes) -> dict:
        body = {"filename": "sla_pause.bpmn", "xml": content.decode()}
        response = client.post("/modeler/deploy", json=body, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["deployed"]

    assert deploy_page(fixture_bytes("sla_pause.bpmn")) == [
        {"key": "sla_pause", "version": 1, "new": False}
    ]
    changed = fixture_bytes("sla_pause.bpmn").replace(*next(iter(RENAMED.items())))
    assert deploy_page(changed) == [{"key": "sla_pause", "version": 2, "new": True}]
    with db.read() as session:
        assert deployments.get_definition(session, "sla_pause").version == 2


def test_english_pages_name_a_changed_element_by_its_english_name(app, factory, now):
    db = app.extensions["pazhou"]["db"]
    deploy(db, now, "web_review.bpmn")
    deploy(
        db,
        now,
        "web_review.bpmn",
        {b'name="sla_working_days" value="15"': b'name="sla_working_days" value="10"'},
    )
    client, _ = factory.web_login(factory.user("analyst"))

    english = newest_summary(client.get("/modeler/web_review?lang=en").get_data(as_text=True))
    assert "changed Fire protection design review Task_fire_review" in english, english
    chinese = newest_summary(client.get("/modeler/web_review?lang=zh").get_data(as_text=True))
    assert "修改 消防设计审查 Task_fire_review" in chinese, chinese


def test_the_deployed_notice_reads_as_one_sentence_in_either_language(app, factory, now):
    db = app.extensions["pazhou"]["db"]
    deploy(db, now, "sla_pause.bpmn")
    client, _ = factory.web_login(factory.user("analyst"))

    chinese = client.get("/modeler/sla_pause?deployed=1&lang=zh").get_data(as_text=True)
    assert "已部署 sla_pause 版本 1" in chinese
    english = client.get("/modeler/sla_pause?deployed=1&lang=en").get_data(as_text=True)
    assert "Deployed sla_pause version 1" in english  # was "Deployed sla_pause Version 1"


@pytest.mark.parametrize(
    ("lane", "sla", "english", "chinese"),
    [
        (
            "housing_dept",
            "five",
            [
                "Lane name 'housing_dept' is not a department code",
                "The sla_working_days property must be an integer: five",
            ],
            ["sla_working_days 必须是整数：five", "泳道名 'housing_dept' 不是部门代码"],
        ),
        # a detail holding Chinese or parentheses is kept whole, in one language
        (
            "住建科",
            "五 (5)",
            [
                "Lane name '住建科' is not a department code",
                "The sla_working_days property must be an integer: 五 (5)",
            ],
            ["sla_working_days 必须是整数：五 (5)", "泳道名 '住建科' 不是部门代码"],
        ),
    ],
)
def test_validation_problems_read_in_the_pages_language_with_their_details(
    app, factory, lane, sla, english, chinese
):
    """The API answers in both languages; the analyst's page shows its own, details included."""
    client, csrf = factory.web_login(factory.user("analyst"))
    broken = (
        fixture_bytes("sla_pause.bpmn")
        .replace(b'name="housing">', f'name="{lane}">'.encode())
        .replace(
            b'name="sla_working_days" value="5"', f'name="sla_working_days" value="{sla}"'.encode()
        )
    )
    body = {"filename": "sla_pause.bpmn", "xml": broken.decode()}

    def messages(lang: str, path: str) -> list[str]:
        response = client.post(f"{path}?lang={lang}", json=body, headers={"X-CSRF-Token": csrf})
        return sorted({p["message"] for p in response.get_json()["problems"]})

    for path in ("/modeler/validate", "/modeler/deploy"):
        assert messages("en", path) == english
        assert messages("zh", path) == chinese


def test_a_script_syntax_error_is_shown_whole_in_either_language():
    xml = fixture_bytes("sla_pause.bpmn").decode()
    assert "<bpmn:process" in xml
    script = (
        '<bpmn:scriptTask id="bad_script"><bpmn:script>x = foo(</bpmn:script></bpmn:scriptTask>'
    )
    xml = xml.replace("</bpmn:process>", script + "</bpmn:process>", 1)
    analysis = analyse_bundle([("s.bpmn", xml.encode())], DeployedContext(), lambda key: True)
    (problem,) = [p for p in analysis.problems if p.element_id == "bad_script"]
    assert problem.message == (
        "脚本不允许：'(' was never closed (<unknown>, line 1)"
        " (script rejected: '(' was never closed (<unknown>, line 1))"
    )
    for lang, expected in (
        ("zh", "脚本不允许：'(' was never closed (<unknown>, line 1)"),
        ("en", "Script rejected: '(' was never closed (<unknown>, line 1)"),
    ):
        page = Flask(__name__)
        Babel(page, locale_selector=lambda lang=lang: lang)
        with page.test_request_context():
            (shown,) = _in_page_language([problem])
        assert shown["message"] == expected
