"""A case's files through the API: GET /cases/{ref}/attachments and .../attachments/{id}.

Files go in through the existing uploads (POST /cases/{ref}/attachments, POST
/cases/with-files) and must come back byte for byte, under their original names, to whoever
may read the case, and to nobody else.
"""

from __future__ import annotations

import base64
import hashlib
import io
from datetime import timedelta

import pytest
from werkzeug.http import parse_options_header

from .process_helpers import deploy_processes
from .test_start_with_files import JCA_FILES, jca_body, jca_files, pdf, post

DRAWING = b"%PDF-1.7\n% fire drawings, sheet 3\n" + bytes(range(256)) + b"\n%%EOF\n"
PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00\x01\x02 site photo"
FIELDS = {"id", "filename", "size", "content_type", "sha256", "created_at", "uploaded_by"}


def upload(client, case_ref, content: bytes, filename: str, content_type: str):
    response = client.post(
        f"/api/v1/cases/{case_ref}/attachments",
        data={"file": (io.BytesIO(content), filename, content_type)},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def problem_404(response):
    assert response.status_code == 404, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.get_json()["status"] == 404


@pytest.fixture
def case_with_files(app, enterprise_a, fire_officer, start_case):
    """A case of enterprise A with a drawing (enterprise) and a photo (officer), a minute apart."""
    clock = app.extensions["pazhou"]["clock"]
    case = start_case(enterprise_a)
    drawing = upload(
        enterprise_a, case["id"], DRAWING, "消防设计图纸 (第3张).pdf", "application/pdf"
    )
    clock.advance(timedelta(minutes=1))
    photo = upload(fire_officer, case["case_number"], PHOTO, "现场照片.png", "image/png")
    return case, drawing, photo


def test_list_shows_the_files_oldest_first_with_their_hashes(
    enterprise_a, fire_officer, case_with_files
):
    case, drawing, photo = case_with_files
    for client in (enterprise_a, fire_officer):
        for ref in (case["id"], case["case_number"]):
            response = client.get(f"/api/v1/cases/{ref}/attachments")
            assert response.status_code == 200, response.get_json()
            items = response.get_json()["items"]
            assert [item["id"] for item in items] == [drawing["id"], photo["id"]]
            assert all(set(item) == FIELDS for item in items)
            first, second = items
            assert first == drawing and second == photo  # as the uploads reported them
            assert first["filename"] == "消防设计图纸 (第3张).pdf"
            assert first["size"] == len(DRAWING)
            assert first["sha256"] == hashlib.sha256(DRAWING).hexdigest()
            assert first["content_type"] == "application/pdf"
            assert first["uploaded_by"] == enterprise_a.username
            assert second["sha256"] == hashlib.sha256(PHOTO).hexdigest()
            assert second["size"] == len(PHOTO) and second["content_type"] == "image/png"
            assert second["uploaded_by"] == fire_officer.username
            assert first["created_at"] < second["created_at"]


def test_a_case_without_files_lists_none(enterprise_a, start_case):
    case = start_case(enterprise_a)
    response = enterprise_a.get(f"/api/v1/cases/{case['id']}/attachments")
    assert response.status_code == 200 and response.get_json() == {"items": []}


def test_download_returns_the_same_bytes_under_the_original_name(
    factory, enterprise_a, fire_officer, case_with_files
):
    case, drawing, photo = case_with_files
    for client in (enterprise_a, fire_officer):
        for meta, content in ((drawing, DRAWING), (photo, PHOTO)):
            response = client.get(f"/api/v1/cases/{case['case_number']}/attachments/{meta['id']}")
            assert response.status_code == 200
            assert response.data == content
            assert response.mimetype == meta["content_type"]
            assert response.content_length == len(content)
            disposition, params = parse_options_header(response.headers["Content-Disposition"])
            assert disposition == "attachment"
            assert params["filename"] == meta["filename"]  # decoded from filename*=UTF-8''…
            assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["ETag"] == f'"{hashlib.sha256(content).hexdigest()}"'
            digest = base64.b64encode(hashlib.sha256(content).digest()).decode()
            assert response.headers["Repr-Digest"] == f"sha-256=:{digest}:"
            assert "private" in response.headers["Cache-Control"]

    # the ETag works: a client that has the file gets 304 and no body
    url = f"/api/v1/cases/{case['id']}/attachments/{drawing['id']}"
    again = enterprise_a.get(url, headers={"If-None-Match": f'"{drawing["sha256"]}"'})
    assert again.status_code == 304 and again.data == b""

    # an interrupted download resumes where it stopped; a range past the end is a problem
    rest = enterprise_a.get(url, headers={"Range": "bytes=4-"})
    assert rest.status_code == 206 and rest.data == DRAWING[4:]
    assert rest.headers["Content-Range"] == f"bytes 4-{len(DRAWING) - 1}/{len(DRAWING)}"
    beyond = enterprise_a.get(url, headers={"Range": f"bytes={len(DRAWING) + 10}-"})
    assert beyond.status_code == 416 and beyond.mimetype == "application/problem+json"
    assert "范围" in beyond.get_json()["detail"]
    documented = enterprise_a.get("/api/v1/openapi.json").get_json()["paths"]
    download = documented["/api/v1/cases/{ref}/attachments/{attachment_id}"]["get"]["responses"]
    assert {"200", "206", "304", "416"} <= set(download)

    # the web page's download link follows the same rule and sends the same file
    browser, _ = factory.web_login(enterprise_a.username)
    page = browser.get(f"/cases/{case['case_number']}/attachments/{drawing['id']}")
    api = enterprise_a.get(url)
    assert page.status_code == 200 and page.data == DRAWING
    for header in ("Content-Type", "Content-Disposition", "ETag", "X-Content-Type-Options"):
        assert page.headers[header] == api.headers[header], header


def test_files_sent_with_the_start_are_listed_and_downloadable(app, factory):
    deploy_processes(app.extensions["pazhou"]["db"])
    enterprise = factory.logged_in("enterprise", enterprise_id=factory.enterprise())
    started = post(enterprise, jca_body(), jca_files())
    assert started.status_code == 201, started.get_json()
    case = started.get_json()

    items = enterprise.get(f"/api/v1/cases/{case['case_number']}/attachments").get_json()["items"]
    by_id = {item["id"]: item for item in items}
    assert set(by_id) == {case["data"][name] for name in JCA_FILES}
    for name in JCA_FILES:
        item = by_id[case["data"][name]]
        assert item["filename"] == f"{name}.pdf" and item["size"] == len(pdf(name))
        assert item["sha256"] == hashlib.sha256(pdf(name)).hexdigest()
        download = enterprise.get(f"/api/v1/cases/{case['id']}/attachments/{item['id']}")
        assert download.status_code == 200 and download.data == pdf(name)


def test_another_enterprise_sees_neither_the_list_nor_the_files(enterprise_b, case_with_files):
    case, drawing, photo = case_with_files
    for ref in (case["id"], case["case_number"]):
        problem_404(enterprise_b.get(f"/api/v1/cases/{ref}/attachments"))
        for meta in (drawing, photo):
            problem_404(enterprise_b.get(f"/api/v1/cases/{ref}/attachments/{meta['id']}"))


def test_a_file_is_reached_only_through_its_own_case(
    enterprise_a, admin, start_case, case_with_files
):
    case, drawing, _ = case_with_files
    other = start_case(enterprise_a)  # same enterprise, another case
    own = upload(enterprise_a, other["id"], PHOTO, "另一案件.png", "image/png")
    for client in (enterprise_a, admin):
        problem_404(client.get(f"/api/v1/cases/{other['id']}/attachments/{drawing['id']}"))
        problem_404(client.get(f"/api/v1/cases/{case['id']}/attachments/{own['id']}"))
        listed = client.get(f"/api/v1/cases/{other['id']}/attachments").get_json()["items"]
        assert [item["id"] for item in listed] == [own["id"]]
    for missing in ("00000000-0000-0000-0000-000000000000", "no-such-file", "x" * 100):
        problem_404(admin.get(f"/api/v1/cases/{case['id']}/attachments/{missing}"))
    problem_404(admin.get(f"/api/v1/cases/999999/attachments/{drawing['id']}"))
    problem_404(admin.get("/api/v1/cases/999999/attachments"))
