"""Form pages in English: choices, list-row templates and conditional-required hints follow
the page's language (forms' x-options-en / x-labels-en, hints derived from if/then)."""

from __future__ import annotations

import html as htmllib
import json
import re

import forms
from engine.web.formfields import build_fields

from .process_helpers import deploy_processes

JCA = "/cases/new/joint_completion_acceptance"
FIRE = "/cases/new/fire_design_review"

FIRE_TRACK_EN = (
    "Special construction works (fire acceptance)",
    "Other construction works (fire acceptance filing)",
    "Not applicable",
)
FIRE_TRACK_ZH = ("特殊建设工程（消防验收）", "其他建设工程（消防验收备案）", "不涉及")
HINT_FIRE_EN = (
    "(required when “Fire review track” is “Special construction works (fire acceptance)”"
    " or “Other construction works (fire acceptance filing)”)"
)
HINT_CIVIL_EN = "(required when “Civil air defense works built” is “Yes”)"
HINT_CIVIL_ZH = "（当“是否修建人防工程”为“是”时必填）"


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _field_block(page: str, name: str) -> str:
    match = re.search(
        rf'<div class="field[^"]*" data-field="{re.escape(name)}".*?</div>', page, re.S
    )
    assert match, f"no field {name}"
    return match.group(0)


def _template(page: str, name: str) -> str:
    match = re.search(rf'data-rows="{re.escape(name)}".*?<template>(.*?)</template>', page, re.S)
    assert match, f"no row template for {name}"
    return match.group(1)


def test_the_english_start_form_shows_english_choices_and_conditional_hints(app, db, factory):
    deploy_processes(db)
    client, _ = factory.web_login(factory.user("enterprise", enterprise_id=factory.enterprise()))

    english = _page(client, f"{JCA}?lang=en")
    track = _field_block(english, "fire_track")
    assert all(f">{title}</option>" in track for title in FIRE_TRACK_EN)
    assert not any(title in english for title in FIRE_TRACK_ZH)
    assert HINT_FIRE_EN in _field_block(english, "fire_commissioning_report")
    civil = _field_block(english, "civil_defense_area_m2")
    assert HINT_CIVIL_EN in civil and 'class="req req-cond"' in civil
    assert "必填" not in english
    # a field required in any case keeps its plain asterisk and has no hint
    assert 'class="req req-cond"' not in _field_block(english, "project_name")
    # form.js turns the marker red while the condition holds
    attribute = re.search(r"data-required-if='([^']*)'", civil)
    assert attribute and json.loads(htmllib.unescape(attribute.group(1))) == [
        {"all": [{"name": "civil_defense_required", "values": ["true"]}], "unless": False}
    ]

    chinese = _page(client, f"{JCA}?lang=zh")
    assert all(f">{title}</option>" in chinese for title in FIRE_TRACK_ZH)
    assert HINT_CIVIL_ZH in _field_block(chinese, "civil_defense_area_m2")
    assert "Not applicable" not in chinese and "required when" not in chinese


def test_a_refused_english_start_keeps_english_choices_and_hints(app, db, factory):
    deploy_processes(db)
    client, csrf = factory.web_login(factory.user("enterprise", enterprise_id=factory.enterprise()))
    refused = client.post(
        f"{JCA}?lang=en",
        data={"csrf_token": csrf, "fire_track": "special", "civil_defense_required": "true"},
        content_type="multipart/form-data",
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'value="special" selected>Special construction works (fire acceptance)<' in page
    assert HINT_CIVIL_EN in page and HINT_FIRE_EN in page
    assert 'data-error-for="civil_defense_area_m2"' in page


def test_a_new_row_of_a_list_is_labelled_in_the_pages_language(app, db, factory):
    deploy_processes(db)
    client, _ = factory.web_login(factory.user("enterprise", enterprise_id=factory.enterprise()))

    english = _template(_page(client, f"{FIRE}?lang=en"), "building_uses")
    assert 'name="building_uses.__index__.use"' in english
    assert ">Use" in english and ">Floor area of this use (m²)" in english
    assert ">Shopping mall</option>" in english and "Remove" in english
    visible = re.sub(r'value="[^"]*"', "", english)  # option values stay the schema's
    assert not re.search(r"[\u3400-\u9fff]", visible), visible

    chinese = _template(_page(client, f"{FIRE}?lang=zh"), "building_uses")
    assert ">用途" in chinese and ">该用途建筑面积（m²）" in chinese
    assert ">商场</option>" in chinese and "Shopping mall" not in chinese


def test_row_templates_and_their_conditions_use_the_form_labels():
    """The template of a list row (input names with __index__) finds the English labels, and
    a condition inside a row names a field of the same row."""
    fields = {f.name: f for f in build_fields(forms.load_form("permit_apply"), {}, {}, True)}
    template = {f.name: f for f in fields["dangerous_works"].template}
    scale = template["dangerous_works.__index__.scale"]
    assert scale.label == "Scale" and scale.options[1] == (
        "over_limit",
        forms.english_option_titles(forms.load_form("permit_apply"))["dangerous_works.scale"][
            "over_limit"
        ],
    )
    review = template["dangerous_works.__index__.expert_review_file"]
    assert review.required_when.startswith("(required when “Scale” is “")
    assert review.required_if == [
        {
            "all": [{"name": "dangerous_works.__index__.scale", "values": ["over_limit"]}],
            "unless": False,
        }
    ]
    chinese = {f.name: f for f in build_fields(forms.load_form("permit_apply"), {}, {}, False)}
    assert chinese["planning_permit_no"].required_when.startswith("（除“")


def test_department_choices_read_as_department_names_in_both_languages():
    """onboarding_assign_cso lists bare department codes: a Chinese page must not show
    'service_center' as a choice."""
    schema = forms.load_form("onboarding_assign_cso")

    def choices(english: bool) -> dict:
        fields = {f.name: f for f in build_fields(schema, {}, {}, english)}
        rows = [f for f in fields.values() if f.kind == "objects"]
        (department,) = [f for f in rows[0].template if f.name.endswith(".department")]
        return dict(department.options)

    assert choices(False)["service_center"] == "综合服务窗口/代办"
    assert choices(False)["enterprise"] == "企业"
    assert choices(True)["service_center"] == "One-stop service window"
