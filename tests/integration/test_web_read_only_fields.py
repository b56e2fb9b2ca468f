"""A ``readOnly`` field is shown, not asked for, whatever its shape: an object's fields and a
list of objects' rows are text on the page, with no inputs and no add/remove buttons."""

from __future__ import annotations

import re

from flask import render_template_string
from werkzeug.datastructures import MultiDict

from engine.web.formfields import build_fields, parse

SCHEMA = {
    "type": "object",
    "properties": {
        "site": {
            "type": "object",
            "title": "项目地址",
            "readOnly": True,
            "properties": {
                "street": {"type": "string", "title": "街道"},
                "parcel": {"type": "string", "title": "地块编号"},
            },
        },
        "findings": {
            "type": "array",
            "title": "检查发现",
            "readOnly": True,
            "items": {
                "type": "object",
                "properties": {"item": {"type": "string", "title": "问题"}},
            },
        },
        "reply": {"type": "string", "title": "答复"},
    },
}

PAGE = '{% from "_fields.html" import field %}{% for f in fields %}{{ field(f, {}) }}{% endfor %}'


def _render(app, held):
    with app.test_request_context("/"):
        return render_template_string(PAGE, fields=build_fields(SCHEMA, {}, {}, False, held))


def test_read_only_objects_and_rows_show_their_values_without_inputs(app):
    held = {
        "site": {"street": "琶洲大道 1 号", "parcel": "AH040"},
        "findings": [{"item": "临边防护缺失"}, {"item": "脚手架未验收"}],
    }
    page = _render(app, held)
    for text in ("琶洲大道 1 号", "AH040", "临边防护缺失", "脚手架未验收"):
        assert text in page
    inputs = re.findall(r'<(?:input|textarea|select)[^>]*name="([^"]+)"', page)
    assert inputs == ["reply"]
    assert "add-row" not in page and "remove-row" not in page


def test_an_empty_read_only_list_shows_a_dash_not_an_empty_row(app):
    page = _render(app, {"site": None, "findings": []})
    assert 'data-readonly="findings"' in page
    findings = page.split('data-readonly="findings"', 1)[1].split("</fieldset>", 1)[0]
    assert "—" in findings and "row-item" not in findings


def test_a_posted_value_for_a_read_only_object_is_not_taken():
    posted = MultiDict({"site.street": "别处", "reply": "已整改"})
    assert parse(SCHEMA, posted, {}) == {"reply": "已整改"}


LISTS_INSIDE = {
    "type": "object",
    "properties": {
        "permit": {
            "type": "object",
            "title": "许可",
            "readOnly": True,
            "properties": {
                "phases": {"type": "array", "title": "阶段", "items": {"type": "string"}},
            },
        },
        "inspections": {
            "type": "array",
            "title": "检查",
            "readOnly": True,
            "items": {
                "type": "object",
                "properties": {
                    "issues": {"type": "array", "title": "问题", "items": {"type": "string"}},
                },
            },
        },
    },
}


def test_a_list_of_texts_inside_a_read_only_object_or_row_shows_one_line_per_item(app):
    held = {
        "permit": {"phases": ["基坑支护", "地下室"]},
        "inspections": [{"issues": ["临边防护缺失", "脚手架未验收"]}],
    }
    with app.test_request_context("/"):
        page = render_template_string(PAGE, fields=build_fields(LISTS_INSIDE, {}, {}, False, held))

    def items(name: str) -> list[str]:
        shown = page.split(f'data-readonly="{name}"', 1)[1].split("</div>", 1)[0]
        return re.findall(r"<li>(.*?)</li>", shown, re.S)

    # not one item per character
    assert items("permit.phases") == ["基坑支护", "地下室"]
    assert items("inspections.0.issues") == ["临边防护缺失", "脚手架未验收"]
