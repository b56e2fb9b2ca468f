"""Procedure, task and form names on English pages: the BPMN's `name_en` and the forms'
`x-title-en` wherever a name is shown, and the Chinese name where the BPMN gives no English."""

from __future__ import annotations

import re

from engine.models import Case
from engine.services import deployments
from tests.factories import deploy, start

from .process_helpers import Flow, deploy_processes, jca_apply

JCA = "joint_completion_acceptance"
JCA_ZH, JCA_EN = "竣工联合验收", "Joint completion acceptance"
PRECHECK_ZH, PRECHECK_EN = "预审受理（一口进件）", "Pre-check and intake (single window)"
PRECHECK_FORM_ZH, PRECHECK_FORM_EN = "联合验收预审受理", "Joint acceptance pre-check and intake"
SUPPLEMENT_ZH, SUPPLEMENT_EN = (
    "按一次性告知补正材料",
    "Supplement materials per the one-time notice",
)
MISSING = {"materials_complete": False, "missing_items": ["竣工图"]}
CJK = re.compile(r"[\u3400-\u9fff]")


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def _jca_case(db, factory) -> tuple[Flow, int]:
    deploy_processes(db)
    enterprise_id = factory.enterprise()
    return Flow.start(db, JCA, jca_apply(), enterprise_id=enterprise_id), enterprise_id


def test_an_officer_reads_the_inbox_and_the_task_in_english(app, db, factory):
    flow, _ = _jca_case(db, factory)
    task_id = flow.task("Task_precheck").id
    client, _ = factory.web_login(factory.user("officer", "service_center"))

    inbox = _page(client, "/inbox?lang=en")
    assert f">{PRECHECK_EN}</a>" in inbox and PRECHECK_ZH not in inbox
    page = _page(client, f"/tasks/{task_id}?lang=en")
    assert f"<title>{PRECHECK_EN} · Pazhou Flow</title>" in page
    assert f'<h1 data-testid="task-title">{PRECHECK_EN}</h1>' in page
    assert f'<h2 data-testid="form-title">{PRECHECK_FORM_EN}</h2>' in page
    assert PRECHECK_ZH not in page and PRECHECK_FORM_ZH not in page

    inbox = _page(client, "/inbox?lang=zh")
    assert f">{PRECHECK_ZH}</a>" in inbox and PRECHECK_EN not in inbox
    page = _page(client, f"/tasks/{task_id}?lang=zh")
    assert f'<h1 data-testid="task-title">{PRECHECK_ZH}</h1>' in page
    assert f'<h2 data-testid="form-title">{PRECHECK_FORM_ZH}</h2>' in page
    assert PRECHECK_EN not in page and PRECHECK_FORM_EN not in page


def test_the_enterprise_follows_its_case_in_english(app, db, factory):
    flow, enterprise_id = _jca_case(db, factory)
    number = flow.case().case_number
    flow.complete("Task_precheck", MISSING)  # the window asks the enterprise for a document
    client, _ = factory.web_login(factory.user("enterprise", enterprise_id=enterprise_id))

    page = _page(client, f"/cases/{number}?lang=en")
    assert f"{JCA_EN} v1" in page
    my_tasks = re.search(r'data-testid="my-tasks">(.*?)</ul>', page, re.S).group(1)
    assert f">{SUPPLEMENT_EN}</a>" in my_tasks
    holders = re.search(r'data-testid="holders">(.*?)</table>', page, re.S).group(1)
    assert SUPPLEMENT_EN in holders
    timeline = re.search(r'data-testid="timeline">(.*?)</ol>', page, re.S).group(1)
    assert f"<span>{PRECHECK_EN} · One-stop service window</span>" in timeline  # completed
    assert f"<span>{SUPPLEMENT_EN} · Enterprise</span>" in timeline  # created
    assert not [name for name in (JCA_ZH, PRECHECK_ZH, SUPPLEMENT_ZH) if name in page]
    assert 'data-english="true"' in page  # the diagram relabels its steps (diagram.js)

    listed = _page(client, "/cases?lang=en")
    assert f"{number} · {JCA_EN} ·" in listed and JCA_ZH not in listed

    page = _page(client, f"/cases/{number}?lang=zh")
    assert f"{JCA_ZH} v1" in page and f">{SUPPLEMENT_ZH}</a>" in page
    assert f"<span>{PRECHECK_ZH} · 综合服务窗口/代办</span>" in page
    assert not [name for name in (JCA_EN, PRECHECK_EN, SUPPLEMENT_EN) if name in page]
    assert 'data-english="false"' in page


def test_the_start_page_lists_every_shipped_procedure_by_its_english_name(app, db, factory):
    deploy_processes(db)
    client, _ = factory.web_login(factory.user("enterprise", enterprise_id=factory.enterprise()))

    page = _page(client, "/cases/new?lang=en")
    shown = dict(re.findall(r'data-key="([a-z_]+)">([^<]*)</a>', page))
    with db.read() as session:
        english = {d.key: d.name_en for d in deployments.list_definitions(session)}
    assert JCA in shown and shown == {key: english[key] for key in shown}
    assert not [name for name in shown.values() if CJK.search(name)]

    page = _page(client, f"/cases/new/{JCA}?lang=en")
    assert f"<h1>New application · {JCA_EN}</h1>" in page
    assert '<h2 data-testid="form-title">Joint completion acceptance application</h2>' in page
    assert "竣工联合验收申请" not in page


def test_names_without_an_english_one_stay_chinese_on_english_pages(app, db, factory):
    # web_review gives its process and fire review English names, not its civil-defense
    # review; parallel_review gives none at all.
    deploy(db, factory.now, "web_review.bpmn")
    deploy(db, factory.now, "parallel_review.bpmn")
    number = _case_number(db, start(db, factory.now, "web_review"))
    client, _ = factory.web_login(factory.user("officer", "civil_defense"))

    inbox = _page(client, "/inbox?lang=en")
    assert ">人防设计审查</a>" in inbox
    page = _page(client, f"/cases/{number}?lang=en")
    holders = re.search(r'data-testid="holders">(.*?)</table>', page, re.S).group(1)
    assert "Fire protection design review" in holders and "人防设计审查" in holders
    assert "Parallel review (web test) v1" in page

    analyst, _ = factory.web_login(factory.user("analyst"))
    names = re.findall(r'<td data-label="Name">([^<]*)</td>', _page(analyst, "/modeler?lang=en"))
    assert sorted(names) == ["Parallel review (web test)", "并联审查测试"]
    modeler = _page(analyst, "/modeler/web_review?lang=en")
    assert "<h1>Parallel review (web test) <small>" in modeler


def _case_number(db, case_id: int) -> str:
    with db.read() as session:
        return session.get(Case, case_id).case_number
