"""An enterprise starts a case in the browser: the start form, its files, one transaction."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from engine.models import Attachment, Case
from engine.services import cases
from engine.services.actors import SYSTEM

from .process_helpers import HEADER, deploy_processes

PDF = b"%PDF-1.4\n% start form file\n"
# fire_track "filing" makes the fire commissioning report required too (if/then in the form).
FILES = (
    "survey_report_file",
    "archives_transfer_list",
    "fire_commissioning_report",
    "completion_report_file",
)


def form_post(csrf, files=FILES, **overrides):
    fields = {
        **HEADER,
        "project_name": "琶洲数字经济总部大楼",
        "owner_acceptance_date": "2026-02-20",
        "qs_notified_date": "2026-02-10",
        "building_codes": "A1\nA2",
        "bim_submission_id": "BIM-2026-0001",
        "fire_track": "filing",
        "civil_defense_required": "false",
        "csrf_token": csrf,
    }
    fields.update(overrides)
    for name in files:
        fields[f"{name}__file"] = (io.BytesIO(PDF), f"{name}.pdf", "application/pdf")
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

    started = client.post(
        "/cases/new/joint_completion_acceptance",
        data=form_post(csrf),
        content_type="multipart/form-data",
    )
    assert started.status_code == 302
    case_number = started.headers["Location"].rstrip("/").split("/")[-1]
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
