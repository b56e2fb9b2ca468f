"""Starting a case with the files its start form asks for: POST /api/v1/cases/with-files.

A file field holds the id of an attachment of the same case, so a JSON start (no files yet)
cannot fill one; the multipart start stores the files and starts the case in one transaction.
"""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from sqlalchemy import func, select

from engine.models import Attachment, Case
from engine.services import cases, start_files
from engine.services.actors import Actor

from .process_helpers import HEADER, PDF, SMALL_UPLOAD_LIMIT, deploy_processes, padded_pdf
from .process_helpers import JCA_FILE_FIELDS as JCA_FILES

JCA = "joint_completion_acceptance"


def jca_body(**data) -> dict:
    return {
        "definition_key": JCA,
        "project_name": "琶洲数字经济总部大楼",
        "data": {
            **HEADER,
            "owner_acceptance_date": "2026-02-20",
            "qs_notified_date": "2026-02-10",
            "building_codes": ["A1", "A2"],
            "bim_submission_id": "BIM-2026-0001",
            "fire_track": "special",
            "civil_defense_required": False,
            **data,
        },
    }


def pdf(name: str) -> bytes:
    return PDF + f"% {name}\n%%EOF\n".encode()


def parts(body, files: dict[str, list[tuple[bytes, str]]] | None = None) -> dict:
    """A multipart body: `case` as JSON text (or raw text), file parts by field path."""
    result = {"case": body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)}
    for path, items in (files or {}).items():
        result[path] = [(io.BytesIO(content), name, "application/pdf") for content, name in items]
    return result


def jca_files(*names: str) -> dict:
    return {name: [(pdf(name), f"{name}.pdf")] for name in names or JCA_FILES}


def jca_files_parts() -> dict:
    return {name: (io.BytesIO(pdf(name)), f"{name}.pdf") for name in JCA_FILES}


def post(client, body, files=None):
    return client.post(
        "/api/v1/cases/with-files", data=parts(body, files), content_type="multipart/form-data"
    )


def counts(db) -> tuple[int, int]:
    with db.read() as session:
        return (
            session.scalar(select(func.count()).select_from(Case)),
            session.scalar(select(func.count()).select_from(Attachment)),
        )


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_json()
    assert response.headers["Content-Type"].startswith("application/problem+json")
    return response.get_json()


@pytest.fixture
def processes(app):
    db = app.extensions["pazhou"]["db"]
    deploy_processes(db)
    return db


@pytest.fixture
def applicant(factory, enterprise_a_id):
    """An enterprise user, logged in over the API and in the browser."""
    username = factory.user("enterprise", enterprise_id=enterprise_a_id)
    return factory.login(username), factory.web_login(username)[0]


def test_enterprise_starts_joint_acceptance_with_its_documents(processes, applicant):
    api, browser = applicant
    response = post(api, jca_body(), jca_files())
    assert response.status_code == 201, response.get_json()
    case = response.get_json()
    assert case["status"] == "running" and case["stage"] == "completion_precheck"
    assert [t["department"] for t in case["open_tasks"]] == ["service_center"]

    ids = {name: case["data"][name] for name in JCA_FILES}
    assert len(set(ids.values())) == 4
    page = browser.get(f"/cases/{case['case_number']}").get_data(as_text=True)
    for name, attachment_id in ids.items():
        assert f"{name}.pdf" in page and attachment_id in page
        download = browser.get(f"/cases/{case['case_number']}/attachments/{attachment_id}")
        assert download.status_code == 200 and download.mimetype == "application/pdf"
        assert hashlib.sha256(download.data).hexdigest() == hashlib.sha256(pdf(name)).hexdigest()
    with processes.read() as session:
        stored = {
            row.id: row.sha256
            for row in session.scalars(select(Attachment).where(Attachment.case_id == case["id"]))
        }
    assert stored == {ids[name]: hashlib.sha256(pdf(name)).hexdigest() for name in JCA_FILES}
    # the same case, read back: the ids are the case's data, not just the response's
    assert (
        api.get(f"/api/v1/cases/{case['id']}").get_json()["data"]["survey_report_file"]
        == (ids["survey_report_file"])
    )


def test_several_files_for_an_array_field_are_all_attached(processes, factory, enterprise_a_id):
    api = factory.logged_in("enterprise", enterprise_id=enterprise_a_id)
    body = {
        "definition_key": "coordination_ledger",
        "project_name": "琶洲数字经济总部项目",
        "data": {
            "project_code": HEADER["project_code"],
            "project_name": "琶洲数字经济总部项目",
            "owner_name": HEADER["owner_name"],
            "contact_name": "张三",
            "contact_phone": "13800138000",
            "category": "供电",
            "description": "施工临时用电未接入",
            "expected_date": "2026-03-20",
        },
    }
    files = {"attachments": [(pdf("现场照片1"), "照片1.pdf"), (pdf("现场照片2"), "照片2.pdf")]}
    response = post(api, body, files)
    assert response.status_code == 201, response.get_json()
    ids = response.get_json()["data"]["attachments"]
    assert len(ids) == 2
    with processes.read() as session:
        rows = {row.id: row for row in session.scalars(select(Attachment))}
    assert [rows[i].filename for i in ids] == ["照片1.pdf", "照片2.pdf"]
    assert [rows[i].sha256 for i in ids] == [
        hashlib.sha256(pdf("现场照片1")).hexdigest(),
        hashlib.sha256(pdf("现场照片2")).hexdigest(),
    ]


def test_officer_attaches_photos_to_a_problem_of_a_rectification(
    processes, factory, enterprise_a_id
):
    officer = factory.logged_in("officer", "quality_safety")
    problems = [
        {"description": "3号楼临边防护缺失", "clause": "JGJ 80-2016 第4.1.1条"},
        {"description": "塔吊基础积水", "clause": "JGJ 196-2010 第3.2.1条"},
    ]
    body = {
        "definition_key": "rectification",
        "project_name": "琶洲数字经济总部项目",
        "enterprise_id": enterprise_a_id,
        "data": {
            "project_code": HEADER["project_code"],
            "project_name": "琶洲数字经济总部项目",
            "owner_name": HEADER["owner_name"],
            "owner_uscc": HEADER["owner_uscc"],
            "rect_source": "日常监督检查",
            "rect_severity": "一般",
            "rect_category": "安全",
            "rect_problems": problems,
        },
    }
    files = {"rect_problems.1.photos": [(pdf("积水1"), "积水1.pdf"), (pdf("积水2"), "积水2.pdf")]}
    response = post(officer, body, files)
    assert response.status_code == 201, response.get_json()
    stored = response.get_json()["data"]["rect_problems"]
    assert "photos" not in stored[0] and len(stored[1]["photos"]) == 2

    # a problem that is not in data has nowhere to hold the photos
    missing = {"rect_problems.2.photos": [(pdf("x"), "x.pdf")]}
    before = counts(processes)
    refused = problem(post(officer, body, missing), 422)
    assert list(refused["errors"]) == ["rect_problems.2.photos"]
    assert counts(processes) == before


def test_json_start_with_a_made_up_file_id_is_refused_and_says_how(processes, factory):
    enterprise = factory.logged_in("enterprise", enterprise_id=factory.enterprise())
    body = jca_body(**{name: f"att-{name}" for name in JCA_FILES})
    refused = problem(enterprise.post("/api/v1/cases", json=body), 422)
    assert set(refused["errors"]) == set(JCA_FILES)
    for name in JCA_FILES:
        assert any("/api/v1/cases/with-files" in text for text in refused["errors"][name])
    # without the files at all, the required file fields say the same
    refused = problem(enterprise.post("/api/v1/cases", json=jca_body()), 422)
    assert set(refused["errors"]) == set(JCA_FILES)
    assert all("/api/v1/cases/with-files" in refused["errors"][name][-1] for name in JCA_FILES)
    assert counts(processes) == (0, 0)
    # the same application with its documents goes through
    assert post(enterprise, jca_body(), jca_files()).status_code == 201


def test_refused_starts_keep_neither_the_case_nor_any_file(processes, applicant):
    api, _ = applicant

    # a file type the bureau does not accept, next to three good files
    files = {**jca_files(), "survey_report_file": [(b"MZ\x90\x00", "report.exe")]}
    refused = problem(post(api, jca_body(), files), 422)
    assert list(refused["errors"]) == ["survey_report_file"]
    assert ".pdf" in refused["errors"]["survey_report_file"][0]

    # content that is not what its name says
    files = {**jca_files(), "completion_report_file": [(b"MZ\x90\x00", "report.pdf")]}
    assert list(problem(post(api, jca_body(), files), 422)["errors"]) == ["completion_report_file"]

    # a part named after a field that is not a file field, or after no field at all
    for path in ("project_code", "no_such_field", "building_codes.0", "survey_report_file.x"):
        files = {**jca_files(), path: [(pdf(path), "x.pdf")]}
        refused = problem(post(api, jca_body(), files), 422)
        assert list(refused["errors"]) == [path], path

    # two files for a field that holds one
    files = {**jca_files(), "survey_report_file": [(pdf("a"), "a.pdf"), (pdf("b"), "b.pdf")]}
    refused = problem(post(api, jca_body(), files), 422)
    assert list(refused["errors"]) == ["survey_report_file"]

    # every file is fine but one the form requires is missing: the stored files roll back
    refused = problem(post(api, jca_body(), jca_files(*JCA_FILES[:3])), 422)
    assert "completion_report_file" in refused["errors"]

    # `case` is not JSON, or JSON that is not a start request
    refused = problem(post(api, '{"definition_key": "joint_completion_acce', jca_files()), 400)
    assert "case" in refused["errors"]
    refused = problem(post(api, {"definition_key": JCA, "data": {}}, jca_files()), 422)
    as_json = problem(api.post("/api/v1/cases", json={"definition_key": JCA, "data": {}}), 422)
    assert (
        refused["errors"]
        == as_json["errors"]
        == {"project_name": as_json["errors"]["project_name"]}
    )
    problem(post(api, "[1, 2]", jca_files()), 422)
    missing_case = api.post(
        "/api/v1/cases/with-files", data=jca_files_parts(), content_type="multipart/form-data"
    )
    assert "case" in problem(missing_case, 422)["errors"]

    assert counts(processes) == (0, 0)
    # Refused before the case row was written: no case number was used up (on PostgreSQL
    # a rolled-back row still consumes its id), the first case is number 1.
    accepted = post(api, jca_body(), jca_files())
    assert accepted.status_code == 201, accepted.get_json()
    assert accepted.get_json()["case_number"].endswith("-000001")


def test_analysts_do_not_start_cases_and_enterprises_only_for_themselves(
    processes, analyst, enterprise_a, enterprise_b_id
):
    problem(post(analyst, jca_body(), jca_files()), 403)
    problem(post(enterprise_a, dict(jca_body(), enterprise_id=enterprise_b_id), jca_files()), 403)
    assert counts(processes) == (0, 0)


@pytest.mark.app_config(MAX_UPLOAD_BYTES=SMALL_UPLOAD_LIMIT)
def test_several_files_of_the_largest_allowed_size_fit_in_one_start(processes, factory):
    db, limit = processes, SMALL_UPLOAD_LIMIT
    api = factory.logged_in("enterprise", enterprise_id=factory.enterprise())

    # four documents, each at the per-file limit: far more than one upload's body
    full = {name: [(padded_pdf(name, limit), f"{name}.pdf")] for name in JCA_FILES}
    response = post(api, jca_body(), full)
    assert response.status_code == 201, response.get_json()
    assert counts(db) == (1, 4)

    # with them, an application text of 80 KB (here JSON whitespace) still has room
    roomy = json.dumps(jca_body(), ensure_ascii=False).replace("{", "{" + " " * 80_000, 1)
    response = post(api, roomy, full)
    assert response.status_code == 201, response.get_json()
    assert counts(db) == (2, 8)
    # one byte over the per-file limit is refused for that field
    over = {**full, "survey_report_file": [(padded_pdf("big", limit + 1), "big.pdf")]}
    assert list(problem(post(api, jca_body(), over), 422)["errors"]) == ["survey_report_file"]
    # a body beyond what several full files need is refused before it is read
    huge = {**full, "attachments_extra": [(padded_pdf(str(i), limit), "x.pdf") for i in range(8)]}
    problem(post(api, jca_body(), huge), 413)
    assert counts(db) == (2, 8)


LEDGER = {
    "definition_key": "coordination_ledger",
    "project_name": "琶洲数字经济总部大楼",
    "data": {
        "project_code": HEADER["project_code"],
        "project_name": "琶洲数字经济总部大楼",
        "contact_name": "张三",
        "contact_phone": "13800138000",
        "category": "供水",
        "description": "临时供水未接通",
        "attachments": [],
    },
}


def test_the_callers_data_is_left_as_it_was(processes, enterprise_a_id, now):
    data = json.loads(json.dumps(LEDGER["data"]))
    before = json.loads(json.dumps(data))
    actor = Actor("ent", "enterprise", None, enterprise_a_id)
    upload = start_files.UploadedFile("现场.pdf", "application/pdf", pdf("现场"))
    with processes.write() as session:
        case = start_files.start_case_with_files(
            session, actor, "coordination_ledger", "琶洲", data, [("attachments", upload)], now
        )
        (attachment_id,) = cases.case_data(session, case)["attachments"]
    assert data == before
    assert attachment_id not in json.dumps(data)


def test_an_empty_file_input_is_no_file_and_too_many_parts_are_refused(processes, applicant):
    api, _ = applicant
    empty = {**parts(LEDGER), "attachments": (io.BytesIO(b""), "")}
    started = api.post("/api/v1/cases/with-files", data=empty, content_type="multipart/form-data")
    assert started.status_code == 201, started.get_json()
    assert started.get_json()["data"]["attachments"] == []

    crowd = {**parts(LEDGER), **{f"note{i}": "x" for i in range(60)}}
    refused = api.post("/api/v1/cases/with-files", data=crowd, content_type="multipart/form-data")
    problem(refused, 413)
    assert counts(processes) == (1, 0)


def test_a_refused_start_names_every_problem_at_once(processes, applicant):
    """A blank project name, a bad form field and a refused file: one 422 with all three."""
    api, _ = applicant
    body = {**jca_body(contact_phone="12345"), "project_name": "  "}
    files = {**jca_files(), "survey_report_file": [(b"MZ\x90\x00", "report.exe")]}
    refused = problem(post(api, body, files), 422)
    assert set(refused["errors"]) == {"project_name", "contact_phone", "survey_report_file"}
    assert ".pdf" in refused["errors"]["survey_report_file"][0]
    assert counts(processes) == (0, 0)
