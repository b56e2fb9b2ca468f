"""An enterprise sends files from the browser: the start form (one transaction with the case) and task forms."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from sqlalchemy import func, select

from engine.models import Attachment, Case
from engine.services import cases
from engine.services.actors import SYSTEM

from .process_helpers import (
    CONTRACTOR_USCC,
    HEADER,
    SMALL_UPLOAD_LIMIT,
    Flow,
    deploy_processes,
    fire_start,
    padded_pdf,
)
from .process_helpers import JCA_FILE_FIELDS as FILES

PDF = b"%PDF-1.4\n% start form file\n"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
REFUSED_FILES_ZH = "所选文件未保存（表单退回时不保留任何文件），请重新选择文件后再提交"


def form_post(csrf, files=FILES, contents=None, **overrides):
    fields = {
        **HEADER,
        "project_name": "琶洲数字经济总部大楼",
        "owner_acceptance_date": "2026-02-20",
        "qs_notified_date": "2026-02-10",
        "building_codes": "A1\nA2",
        "bim_submission_id": "BIM-2026-0001",
        # "filing" makes the fire commissioning report (one of FILES) required too (if/then)
        "fire_track": "filing",
        "civil_defense_required": "false",
        "csrf_token": csrf,
    }
    fields.update(overrides)
    for name in files:
        content = (contents or {}).get(name, PDF)
        fields[f"{name}__file"] = (io.BytesIO(content), f"{name}.pdf", "application/pdf")
    return fields


def counts(db):
    with db.read() as session:
        return (
            session.scalar(select(func.count()).select_from(Case)),
            session.scalar(select(func.count()).select_from(Attachment)),
        )


def test_enterprise_starts_joint_acceptance_with_its_files(app, factory):
    db = app.extensions["pazhou"]["db"]
    deploy_processes(db)
    enterprise_id = factory.enterprise()
    username = factory.user("enterprise", enterprise_id=enterprise_id)
    client, csrf = factory.web_login(username)

    listing = client.get("/cases/new").get_data(as_text=True)
    assert "竣工联合验收" in listing and "/cases/new/joint_completion_acceptance" in listing

    # A missing required file and a bad mobile number: errors next to the fields, nothing kept.
    refused = client.post(
        "/cases/new/joint_completion_acceptance",
        data=form_post(csrf, files=FILES[:3], contact_phone="12345"),
        content_type="multipart/form-data",
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert (
        'data-error-for="completion_report_file"' in page
        and 'data-error-for="contact_phone"' in page
    )
    assert counts(db) == (0, 0)

    # A file that is not what its name says: the message is next to that field, and what
    # was typed comes back with it.
    refused = client.post(
        "/cases/new/joint_completion_acceptance",
        data=form_post(csrf, contents={FILES[0]: b"MZ\x90\x00"}, bim_submission_id="BIM-2026-0042"),
        content_type="multipart/form-data",
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and f'data-error-for="{FILES[0]}"' in page
    assert 'value="BIM-2026-0042"' in page
    assert counts(db) == (0, 0)

    started = client.post(
        "/cases/new/joint_completion_acceptance",
        data=form_post(csrf),
        content_type="multipart/form-data",
    )
    assert started.status_code == 302
    case_number = started.headers["Location"].rstrip("/").split("/")[-1]
    # Refusals wrote no case row, so they used up no case number (PostgreSQL too).
    assert case_number.endswith("-000001")
    with db.read() as session:
        case = cases.get_case(session, SYSTEM, case_number)
        assert case.enterprise_id == enterprise_id and case.stage == "completion_precheck"
        files = {
            a.id: a.filename
            for a in session.scalars(select(Attachment).where(Attachment.case_id == case.id))
        }
        data = cases.case_data(session, case)
    assert sorted(files.values()) == sorted(f"{name}.pdf" for name in FILES)
    assert {data[name] for name in FILES} == set(files)
    assert data["building_codes"] == ["A1", "A2"]


def test_starting_for_another_enterprise_is_refused_before_anything_else(app, factory):
    """Whether you may start at all is said first, not after fixing the form and its files."""
    db = app.extensions["pazhou"]["db"]
    deploy_processes(db)
    mine, other = factory.enterprise(), factory.enterprise()
    client, csrf = factory.web_login(factory.user("enterprise", enterprise_id=mine))
    refused = client.post(
        "/cases/new/joint_completion_acceptance",
        data=form_post(csrf, contents={FILES[0]: b"MZ\x90\x00"}, enterprise_id=str(other)),
        content_type="multipart/form-data",
    )
    assert refused.status_code == 403
    assert counts(db) == (0, 0)


@pytest.mark.app_config(MAX_UPLOAD_BYTES=SMALL_UPLOAD_LIMIT)
def test_several_files_of_the_largest_allowed_size_fit_in_one_browser_start(app, db, factory):
    """Four documents at the per-file limit: far beyond one upload's body, as the API allows."""
    limit = SMALL_UPLOAD_LIMIT
    deploy_processes(db)
    username = factory.user("enterprise", enterprise_id=factory.enterprise())
    client, csrf = factory.web_login(username)
    url = "/cases/new/joint_completion_acceptance"

    full = {name: padded_pdf(name) for name in FILES}
    assert sum(map(len, full.values())) > app.config["MAX_CONTENT_LENGTH"]
    started = client.post(
        url, data=form_post(csrf, contents=full), content_type="multipart/form-data"
    )
    assert started.status_code == 302, started.get_data(as_text=True)
    assert counts(db) == (1, 4)
    with db.read() as session:
        stored = {row.filename: row.sha256 for row in session.scalars(select(Attachment))}
    assert stored == {f"{n}.pdf": hashlib.sha256(c).hexdigest() for n, c in full.items()}

    # one byte over the per-file limit: the form comes back with the error at that field
    over = dict(full, survey_report_file=padded_pdf("big", limit + 1))
    refused = client.post(
        url, data=form_post(csrf, contents=over), content_type="multipart/form-data"
    )
    assert refused.status_code == 422
    assert 'data-error-for="survey_report_file"' in refused.get_data(as_text=True)

    # beyond what several full files need: refused before the body is read, on a page that
    # says why in words and leads back to the form
    huge = form_post(csrf, contents=full)
    huge["extra__file"] = [(io.BytesIO(padded_pdf(str(i))), f"{i}.pdf") for i in range(8)]
    too_large = client.post(url, data=huge, content_type="multipart/form-data")
    page = too_large.get_data(as_text=True)
    assert too_large.status_code == 413
    assert too_large.mimetype == "text/html"
    assert "提交的内容过大" in page and "每个文件最多 0.1 MB" in page
    assert f'href="{url}"' in page
    assert counts(db) == (1, 4)


@pytest.mark.app_config(MAX_UPLOAD_BYTES=SMALL_UPLOAD_LIMIT)
def test_a_task_form_takes_several_files_of_the_largest_allowed_size(app, db, factory, now):
    """The enterprise's fire application: the form and three drawings, each at the limit."""
    limit = SMALL_UPLOAD_LIMIT
    deploy_processes(db)
    flow = Flow.start(db, "fire_design_review", fire_start(), now=now)
    task = flow.task("Task_fire_apply")
    client, csrf = factory.web_login(factory.user("enterprise", enterprise_id=flow.enterprise_id))

    drawings = [padded_pdf(f"drawing {i}") for i in range(3)]
    data = {
        "csrf_token": csrf,
        "designer_name": "广州某建筑设计研究院",
        "designer_uscc": CONTRACTOR_USCC,
        "uses_foreign_standard": "false",
        "uses_nonconforming_new_tech": "false",
        "is_temporary_building": "false",
        "application_form_file__file": (io.BytesIO(padded_pdf("form")), "申请表.pdf"),
        "fire_design_files__file": [
            (io.BytesIO(content), f"图纸{i}.pdf") for i, content in enumerate(drawings)
        ],
    }
    assert 4 * limit > app.config["MAX_CONTENT_LENGTH"]
    response = client.post(f"/tasks/{task.id}", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "Task_fire_apply" not in {t.element_id for t in flow.open_tasks()}
    with db.read() as session:
        stored = sorted(row.sha256 for row in session.scalars(select(Attachment)))
    assert stored == sorted(hashlib.sha256(c).hexdigest() for c in [padded_pdf("form"), *drawings])


def test_a_refused_start_asks_for_the_files_again_and_the_resubmission_starts_one_case(
    app, db, factory
):
    """One wrong field next to four good files: the page claims no upload and shows no id,
    says the files were not kept, and choosing them again starts the case."""
    deploy_processes(db)
    client, csrf = factory.web_login(factory.user("enterprise", enterprise_id=factory.enterprise()))
    url = "/cases/new/joint_completion_acceptance"

    refused = client.post(
        url, data=form_post(csrf, contact_phone="12345"), content_type="multipart/form-data"
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'data-error-for="contact_phone"' in page
    assert "已上传" not in page and 'class="uploaded"' not in page
    assert UUID.search(page) is None
    assert REFUSED_FILES_ZH in page
    for name in FILES:  # each file input comes back empty, saying to choose the file again
        assert f'data-reselect="{name}"' in page and f'name="{name}__file"' in page
        assert f'name="{name}" value=' not in page  # no hidden id to post back
    assert counts(db) == (0, 0)

    # what a browser posts next: the corrected field, the same files chosen again
    started = client.post(url, data=form_post(csrf), content_type="multipart/form-data")
    assert started.status_code == 302, started.get_data(as_text=True)
    assert counts(db) == (1, 4)
    case_page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "申请已提交" in case_page and "附件不存在或不属于本案件" not in case_page


def test_one_submit_shows_the_project_name_the_field_and_the_file_errors_together(app, db, factory):
    deploy_processes(db)
    client, csrf = factory.web_login(factory.user("enterprise", enterprise_id=factory.enterprise()))
    refused = client.post(
        "/cases/new/joint_completion_acceptance",
        data=form_post(
            csrf,
            contents={FILES[0]: b"MZ\x90\x00"},  # not the PDF its name says
            project_name="",
            owner_uscc="91350100M000100Y44",  # wrong check digit
        ),
        content_type="multipart/form-data",
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    for path in ("project_name", "owner_uscc", FILES[0]):
        assert f'data-error-for="{path}"' in page, path
    assert "统一社会信用代码校验位错误" in page
    assert page.count("此项为必填项") == 1  # the name's error once, not once per check
    assert counts(db) == (0, 0)


def test_english_start_form_errors_are_english(app, db, factory):
    deploy_processes(db)
    client, csrf = factory.web_login(factory.user("enterprise", enterprise_id=factory.enterprise()))
    refused = client.post(
        "/cases/new/joint_completion_acceptance?lang=en",
        data=form_post(csrf, project_name="", owner_uscc="91350100M000100Y44"),
        content_type="multipart/form-data",
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "This field is required" in page
    assert "Unified social credit code check digit is wrong" in page
    assert "The chosen files were not kept" in page and "File not kept: choose it again" in page
    assert "此项为必填项" not in page and "统一社会信用代码校验位错误" not in page
    assert "文件未保存" not in page

    # the language cookie set by ?lang=en is enough on the next post
    refused = client.post(
        "/cases/new/joint_completion_acceptance",
        data=form_post(csrf, files=(), contact_phone="12345"),
        content_type="multipart/form-data",
    )
    page = refused.get_data(as_text=True)
    assert "Mobile number must be 11 digits" in page
    assert "手机号码应为以1开头的11位数字" not in page
    assert counts(db) == (0, 0)
