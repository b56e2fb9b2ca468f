"""Analysts validate and deploy bundles; everyone can read definitions."""

from __future__ import annotations

from tests.integration.conftest import upload

BROKEN = b"<?xml version='1.0'?><bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'><oops"


def test_analyst_deploys_and_redeploying_the_same_content_keeps_the_version(
    analyst, parallel_review
):
    assert parallel_review["definitions"] == [
        {"key": "parallel_review", "version": 1, "name": "并联审查测试", "name_en": None}
    ]
    again = analyst.post("/api/v1/definitions", data=upload("parallel_review.bpmn", field="files"))
    assert again.status_code == 201
    assert again.get_json()["definitions"][0]["version"] == 1


def test_enterprise_and_officer_cannot_deploy(enterprise_a, fire_officer):
    for client in (enterprise_a, fire_officer):
        response = client.post("/api/v1/definitions", data=upload("parallel_review.bpmn"))
        assert response.status_code == 403
        assert (
            client.post(
                "/api/v1/definitions/validate", data=upload("parallel_review.bpmn")
            ).status_code
            == 403
        )


def test_invalid_bundle_is_422_with_errors_and_problems_and_deploys_nothing(analyst):
    response = analyst.post(
        "/api/v1/definitions", data=upload("broken.bpmn", contents={"broken.bpmn": BROKEN})
    )
    assert response.status_code == 422
    body = response.get_json()
    assert "broken.bpmn" in body["errors"]
    assert body["problems"] and body["problems"][0]["file"] == "broken.bpmn"
    assert analyst.get("/api/v1/definitions").get_json()["items"] == []


def test_validate_reports_problems_without_deploying(analyst):
    ok = analyst.post("/api/v1/definitions/validate", data=upload("parallel_review.bpmn"))
    assert ok.status_code == 200 and ok.get_json() == {"valid": True, "problems": []}
    bad = analyst.post(
        "/api/v1/definitions/validate", data=upload("b.bpmn", contents={"b.bpmn": BROKEN})
    )
    assert bad.status_code == 200 and bad.get_json()["valid"] is False
    assert analyst.get("/api/v1/definitions").get_json()["items"] == []


def test_no_files_is_422(analyst):
    response = analyst.post("/api/v1/definitions", data={})
    assert response.status_code == 422 and "files[]" in response.get_json()["errors"]


def test_every_role_reads_definitions_versions_and_xml(parallel_review, enterprise_a):
    items = enterprise_a.get("/api/v1/definitions").get_json()["items"]
    assert [(d["key"], d["version"]) for d in items] == [("parallel_review", 1)]
    latest = enterprise_a.get("/api/v1/definitions/parallel_review")
    assert latest.status_code == 200 and latest.get_json()["start_form"] is None
    assert enterprise_a.get("/api/v1/definitions/parallel_review/versions/1").status_code == 200
    assert enterprise_a.get("/api/v1/definitions/parallel_review/versions/2").status_code == 404
    assert enterprise_a.get("/api/v1/definitions/nope").status_code == 404
    xml = enterprise_a.get("/api/v1/definitions/parallel_review/versions/1/xml")
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    assert b'id="Task_fire_review"' in xml.data
