"""Unit tests for the `forms` package (schemas are defined here, not read from forms/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# until the project is installed (pip install -e .) or a root conftest adds it
import forms  # noqa: E402
from forms import (  # noqa: E402
    FormNotFound,
    InvalidFormKey,
    check_schema,
    english_labels,
    field_label,
    form_exists,
    list_forms,
    load_form,
    uscc_check_char,
    validate,
)

VALID_USCC = "91350100M000100Y43"

HEADER = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["project_code", "owner_uscc", "contact_phone"],
    "properties": {
        "project_code": {"type": "string", "title": "项目代码", "format": "project-code"},
        "owner_uscc": {"type": "string", "title": "统一社会信用代码", "format": "uscc"},
        "contact_phone": {"type": "string", "title": "联系电话", "format": "cn-mobile"},
        "start_date": {"type": "string", "format": "date"},
        "email": {"type": "string", "format": "email"},
    },
    "x-labels-en": {
        "project_code": "Project code",
        "owner_uscc": "Owner USCC",
        "contact_phone": "Contact phone",
    },
}

GOOD_HEADER = {
    "project_code": "2024-440105-47-01-123456",
    "owner_uscc": VALID_USCC,
    "contact_phone": "13812345678",
}

NESTED = {
    "type": "object",
    "required": ["applicant"],
    "properties": {
        "applicant": {
            "type": "object",
            "title": "申请人",
            "required": ["name", "uscc"],
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "uscc": {"type": "string", "format": "uscc"},
            },
        },
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string", "title": "名称"}},
            },
        },
    },
    "x-labels-en": {"applicant": "Applicant", "items.name": "Item name"},
}

# intake: missing_items is required and non-empty when materials are incomplete
INTAKE = {
    "type": "object",
    "required": ["materials_complete"],
    "properties": {
        "materials_complete": {"type": "boolean"},
        "missing_items": {"type": "array", "items": {"type": "string"}},
    },
    "if": {"properties": {"materials_complete": {"const": False}}},
    "then": {
        "required": ["missing_items"],
        "properties": {"missing_items": {"minItems": 1}},
    },
}

ATTACH = {
    "type": "object",
    "required": ["safety_measures"],
    "properties": {
        "safety_measures": {"type": "string", "format": "attachment"},
        "photos": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "format": "attachment"},
        },
    },
}


# ------------------------------------------------------------------- formats
def test_valid_uscc():
    assert forms.is_valid_uscc(VALID_USCC)
    assert uscc_check_char(VALID_USCC[:17]) == "3"
    assert validate(HEADER, GOOD_HEADER) == {}


def test_uscc_invalid_check_digit():
    errors = validate(HEADER, {**GOOD_HEADER, "owner_uscc": "91350100M000100Y44"})
    assert errors == {"owner_uscc": ["统一社会信用代码校验位错误"]}


def test_uscc_length_and_charset():
    assert validate(HEADER, {**GOOD_HEADER, "owner_uscc": "9135"}) == {
        "owner_uscc": ["统一社会信用代码应为18位"]
    }
    # lower case, and I/O/S/V/Z are not in the GB 32100 character set
    assert "owner_uscc" in validate(HEADER, {**GOOD_HEADER, "owner_uscc": VALID_USCC.lower()})
    assert "owner_uscc" in validate(HEADER, {**GOOD_HEADER, "owner_uscc": "91350100I000100Y43"})


def test_uscc_check_char_roundtrip():
    # every possible check character is produced for some prefix and accepted by is_valid_uscc
    for last in "0123456789ABCDEFGHJKLMNPQRTUWXY":
        prefix = "91440105MA5" + last + "00000"
        code = prefix + uscc_check_char(prefix)
        assert forms.is_valid_uscc(code)


@pytest.mark.parametrize(
    "code,ok",
    [
        ("2024-440105-47-01-123456", True),
        ("2017-440105-04-01-000001", True),
        ("2024-44010-47-01-123456", False),
        ("2024-440105-47-01-12345", False),
        ("2024440105470112345", False),
        ("2024-440105-47-01-123456 ", False),
    ],
)
def test_project_code(code, ok):
    errors = validate(HEADER, {**GOOD_HEADER, "project_code": code})
    assert (errors == {}) is ok
    if not ok:
        assert errors["project_code"][0].startswith("项目代码格式应为")


@pytest.mark.parametrize(
    "phone,ok",
    [
        ("13812345678", True),
        ("19912345678", True),
        ("12812345678", False),
        ("1381234567", False),
        ("+8613812345678", False),
        ("138 1234 5678", False),
    ],
)
def test_cn_mobile(phone, ok):
    errors = validate(HEADER, {**GOOD_HEADER, "contact_phone": phone})
    assert (errors == {}) is ok
    if not ok:
        assert errors == {"contact_phone": ["手机号码应为以1开头的11位数字"]}


def test_standard_formats_enforced():
    errors = validate(HEADER, {**GOOD_HEADER, "start_date": "2026-02-30", "email": "nobody"})
    assert errors == {"start_date": ["日期格式应为 YYYY-MM-DD"], "email": ["电子邮箱格式不正确"]}


# ------------------------------------------------------------------- paths
def test_nested_required_reported_at_missing_field():
    errors = validate(NESTED, {"applicant": {"name": "广州某建设有限公司"}})
    assert errors == {"applicant.uscc": ["此项为必填项"]}


def test_top_level_required_and_array_paths():
    errors = validate(NESTED, {"items": [{"name": "a"}, {}, {"name": 3}]})
    assert errors["applicant"] == ["此项为必填项"]
    assert errors["items.1.name"] == ["此项为必填项"]
    assert errors["items.2.name"] == ["类型不正确，应为文本"]


def test_nested_format_path():
    errors = validate(NESTED, {"applicant": {"name": "x", "uscc": "91350100M000100Y44"}})
    assert errors == {"applicant.uscc": ["统一社会信用代码校验位错误"]}


def test_additional_properties_reported_at_extra_field():
    schema = {"type": "object", "properties": {"a": {}}, "additionalProperties": False}
    assert validate(schema, {"a": 1, "b": 2}) == {"b": ["不允许填写此项"]}


# ------------------------------------------------------------------- attachments
def test_attachment_must_belong_to_case():
    data = {"safety_measures": "att-1", "photos": ["att-2", "att-other-case"]}
    errors = validate(ATTACH, data, attachment_ids={"att-1", "att-2"})
    assert errors == {"photos.1": ["附件不存在或不属于本案件"]}


def test_attachment_without_id_set_accepts_any_nonempty():
    assert validate(ATTACH, {"safety_measures": "whatever"}) == {}
    assert validate(ATTACH, {"safety_measures": ""}) == {"safety_measures": ["请上传附件"]}


def test_attachment_field_names_the_file_fields_of_a_form():
    rect = forms.load_form("rect_start")
    assert forms.attachment_field(ATTACH, "safety_measures") == "one"
    assert forms.attachment_field(ATTACH, "photos") == "many"
    assert forms.attachment_field(rect, "rect_problems.0.photos") == "many"
    assert forms.attachment_field(rect, "rect_problems.12.photos") == "many"
    for path in ("photos.0", "rect_problems.photos", "rect_problems.0", "project_code", "x", ""):
        schema = rect if path.startswith("rect") or path == "project_code" else ATTACH
        assert forms.attachment_field(schema, path) is None, path
    assert forms.attachment_field(ATTACH, "safety_measures.0") is None


# ------------------------------------------------------------------- conditionals
def test_if_then_conditional_requirement():
    assert validate(INTAKE, {"materials_complete": True}) == {}
    assert validate(INTAKE, {"materials_complete": False}) == {"missing_items": ["此项为必填项"]}
    assert validate(INTAKE, {"materials_complete": False, "missing_items": []}) == {
        "missing_items": ["至少需要1项"]
    }
    assert validate(INTAKE, {"materials_complete": False, "missing_items": ["消防设计文件"]}) == {}


def test_dependent_required():
    schema = {
        "type": "object",
        "properties": {"decision": {"enum": ["approve", "refuse"]}, "reasons": {"type": "string"}},
        "dependentRequired": {"decision": ["reasons"]},
    }
    assert validate(schema, {"decision": "refuse"}) == {"reasons": ["此项为必填项"]}
    assert validate(schema, {"decision": "maybe", "reasons": "x"}) == {
        "decision": ["取值必须是以下之一：approve、refuse"]
    }
    # English lists the values with English commas, not the Chinese enumeration comma
    assert validate(schema, {"decision": "maybe", "reasons": "x"}, locale="en") == {
        "decision": ["Must be one of: approve, refuse"]
    }


# ------------------------------------------------------------------- locale
def test_locale_switch():
    data = {"applicant": {"uscc": "91350100M000100Y44"}}
    zh = validate(NESTED, data)
    en = validate(NESTED, data, locale="en")
    assert zh == {
        "applicant.name": ["此项为必填项"],
        "applicant.uscc": ["统一社会信用代码校验位错误"],
    }
    assert en == {
        "applicant.name": ["This field is required"],
        "applicant.uscc": ["Unified social credit code check digit is wrong"],
    }
    assert validate(NESTED, data, locale="en-US") == en


# ------------------------------------------------------------------- labels
def test_english_labels_and_field_label():
    assert english_labels(NESTED) == {"applicant": "Applicant", "items.name": "Item name"}
    assert english_labels({"type": "object"}) == {}
    assert field_label(NESTED, "items.3.name") == "名称"
    assert field_label(NESTED, "items.3.name", locale="en") == "Item name"
    assert field_label(NESTED, "applicant") == "申请人"


def test_a_form_title_is_english_from_x_title_en_on_english_pages_only():
    schema = {"title": "整改通知书", "x-title-en": "Rectification notice"}
    assert forms.form_title(schema, locale="en") == "Rectification notice"
    assert forms.form_title(schema) == "整改通知书"
    assert forms.form_title({"title": "整改通知书"}, locale="en") == "整改通知书"


def test_check_schema_refuses_an_empty_or_non_text_english_title():
    assert check_schema({"title": "整改通知书", "x-title-en": "Rectification notice"}) == []
    for bad in ("", "  ", 7, {"en": "Rectification notice"}):
        assert check_schema({"x-title-en": bad}) == [
            "/x-title-en: must be a non-empty English title"
        ]


# ------------------------------------------------------------------- check_schema
def test_check_schema():
    assert check_schema(HEADER) == []
    assert check_schema(NESTED) == []
    assert check_schema(INTAKE) == []
    problems = check_schema({"type": "strnig", "properties": {"a": {"minLength": -1}}})
    assert any(p.startswith("/type") for p in problems)
    assert any(p.startswith("/properties/a/minLength") for p in problems)
    assert check_schema({"properties": {"a": {"format": "usc"}}}) == [
        "/properties/a: unknown format 'usc'"
    ]
    assert check_schema({"properties": {"a": {"pattern": "("}}})
    assert check_schema({"$schema": "http://json-schema.org/draft-07/schema#"})
    assert check_schema({"x-labels-en": {"a": 1}})


# ------------------------------------------------------------------- loading
@pytest.fixture
def forms_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(forms, "FORMS_DIR", tmp_path)
    forms.clear_cache()
    (tmp_path / "permit_apply.json").write_text(json.dumps(HEADER), encoding="utf-8")
    (tmp_path / "intake.json").write_text(json.dumps(INTAKE), encoding="utf-8")
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    (tmp_path / "Not-A-Key.json").write_text("{}", encoding="utf-8")
    yield tmp_path
    forms.clear_cache()


def test_load_form(forms_dir):
    schema = load_form("permit_apply")
    assert schema == HEADER
    schema["mutated"] = True  # callers get a copy; the cache is not affected
    assert "mutated" not in load_form("permit_apply")
    assert list_forms() == ["broken", "intake", "permit_apply"]
    assert form_exists("intake")
    assert not form_exists("nope")
    assert not form_exists("../etc/passwd")


def test_a_form_says_whether_it_takes_files_for_the_forms_directory_in_use(forms_dir, tmp_path):
    (forms_dir / "with_files.json").write_text(json.dumps(ATTACH), encoding="utf-8")
    assert forms.takes_files("with_files")
    assert not forms.takes_files("intake")
    other = tmp_path / "other"
    other.mkdir()
    (other / "with_files.json").write_text(json.dumps(INTAKE), encoding="utf-8")
    forms.FORMS_DIR = other  # restored by the fixture's monkeypatch
    assert not forms.takes_files("with_files")


@pytest.mark.parametrize("name", ["default", "examples", "enum", "const", "x-labels-en", "photos"])
def test_a_file_field_counts_whatever_its_name(name):
    schema = {
        "type": "object",
        "properties": {name: {"type": "string", "format": "attachment"}},
        "x-labels-en": {name: "Field"},
        "default": {"format": "attachment"},  # data, not a field
    }
    assert forms.has_attachment_fields(schema)
    data_only = {"type": "object", "properties": {}, "examples": [{"format": "attachment"}]}
    assert not forms.has_attachment_fields(data_only)


def test_load_form_errors(forms_dir):
    with pytest.raises(FormNotFound) as exc:
        load_form("nope")
    assert exc.value.form_key == "nope"
    for bad in ("../intake", "Intake", "intake.json", "", "a-b"):
        with pytest.raises(InvalidFormKey):
            load_form(bad)
    with pytest.raises(forms.FormError):
        load_form("broken")


def test_forms_does_not_import_engine():
    source = "\n".join(
        p.read_text(encoding="utf-8") for p in Path(forms.__file__).parent.glob("*.py")
    )
    assert "import engine" not in source
    assert "from engine" not in source


def test_any_of_reports_the_relevant_branch():
    schema = {
        "type": "object",
        "properties": {
            "phone": {"anyOf": [{"type": "string", "format": "cn-mobile"}, {"type": "null"}]}
        },
    }
    assert validate(schema, {"phone": None}) == {}
    assert validate(schema, {"phone": "123"}) == {"phone": ["手机号码应为以1开头的11位数字"]}


# ------------------------------------------------------------------- option titles
CHOICES = {
    "type": "object",
    "properties": {
        "track": {
            "type": "string",
            "title": "类别",
            "oneOf": [{"const": "special", "title": "特殊"}, {"const": "none", "title": "不涉及"}],
        },
        "level": {"type": "integer", "enum": [1, 2]},
        "tags": {"type": "array", "items": {"type": "string", "enum": ["甲", "乙"]}},
        "rows": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"kind": {"type": "string", "enum": ["质量", "安全"]}},
            },
        },
        "free": {"type": "string"},
    },
    "x-options-en": {
        "track": {"special": "Special", "none": "Not applicable"},
        "level": {"1": "Level one", "2": "Level two"},
        "tags": {"甲": "A", "乙": "B"},
        "rows.kind": {"质量": "Quality", "安全": "Safety"},
    },
}


def test_the_options_of_every_field_are_found_with_their_titles():
    assert dict(forms.option_fields(CHOICES)) == {
        "track": [("special", "特殊"), ("none", "不涉及")],
        "level": [(1, "1"), (2, "2")],
        "tags": [("甲", "甲"), ("乙", "乙")],
        "rows.kind": [("质量", "质量"), ("安全", "安全")],
    }
    assert forms.field_options({"type": "string"}) is None
    assert forms.field_options({"anyOf": [{"const": "a"}, {"type": "null"}]}) is None
    assert forms.option_key("a") == "a" and forms.option_key(1) == "1"
    assert forms.option_key(True) == "true"


def test_option_titles_in_english_and_chinese():
    assert forms.english_option_titles(CHOICES)["rows.kind"] == {
        "质量": "Quality",
        "安全": "Safety",
    }
    assert forms.english_option_titles({"type": "object"}) == {}
    assert forms.option_title(CHOICES, "track", "special") == "特殊"
    assert forms.option_title(CHOICES, "track", "special", "en") == "Special"
    assert forms.option_title(CHOICES, "level", 2, "en") == "Level two"
    assert forms.option_title(CHOICES, "rows.kind", "安全", "en-GB") == "Safety"
    assert forms.option_title(CHOICES, "track", "other", "en") == "other"  # not an option


def test_check_schema_checks_the_english_option_titles():
    assert check_schema(CHOICES) == []
    assert check_schema({**CHOICES, "x-options-en": {"track": "Special"}}) == [
        "/x-options-en: must map field paths to {option value: English title} maps"
    ]
    assert check_schema({**CHOICES, "x-options-en": {"track": {"special": " "}}})
    assert check_schema({**CHOICES, "x-options-en": {"free": {"a": "A"}}}) == [
        "/x-options-en/free: no field with options at this path"
    ]
    assert check_schema({**CHOICES, "x-options-en": {"track": {"specail": "Special"}}}) == [
        "/x-options-en/track/specail: not an option of the field"
    ]


# ------------------------------------------------------------------- conditional requirements
CONDITIONAL = {
    "type": "object",
    "required": ["track", "always"],
    "properties": {
        "track": {"type": "string", "enum": ["special", "filing", "none"]},
        "civil": {"type": "boolean"},
        "report": {"type": "string"},
        "area": {"type": "number"},
        "permit_no": {"type": "string"},
        "always": {"type": "string"},
        "note": {"type": "string"},
        "contact": {"type": "string"},
        "phone": {"type": "string"},
        "odd": {"type": "string"},
        "rows": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"scale": {"type": "string"}, "file": {"type": "string"}},
                "if": {"properties": {"scale": {"const": "big"}}, "required": ["scale"]},
                "then": {"required": ["file"]},
            },
        },
    },
    "if": {"properties": {"civil": {"const": True}}, "required": ["civil"]},
    "then": {"required": ["area"]},
    "dependentRequired": {"contact": ["phone"]},
    "allOf": [
        {
            "if": {"properties": {"track": {"enum": ["special", "filing"]}}, "required": ["track"]},
            "then": {"required": ["report", "always"]},
        },
        {
            "if": {
                "properties": {"track": {"const": "special"}, "civil": {"const": True}},
                "required": ["track", "civil"],
            },
            "then": {"required": ["note"]},
            "else": {"required": ["permit_no"]},
        },
        {"if": {"properties": {"area": {"minimum": 100}}}, "then": {"required": ["odd"]}},
        {"if": {"properties": {"civil": {"const": False}}}, "then": {"required": ["report"]}},
    ],
}


def test_conditional_requirements_are_read_from_if_then_else():
    from forms import Condition, Requirement

    found = forms.conditional_requirements(CONDITIONAL)
    special_and_civil = (Condition("track", ("special",)), Condition("civil", (True,)))
    assert found == {
        "area": [Requirement((Condition("civil", (True,)),))],
        "report": [
            Requirement((Condition("track", ("special", "filing")),)),
            Requirement((Condition("civil", (False,)),)),
        ],
        "note": [Requirement(special_and_civil)],
        "permit_no": [Requirement(special_and_civil, unless=True)],
        "odd": [Requirement(())],  # a test the hint cannot name: still marked
        "phone": [Requirement((Condition("contact"),))],  # once "contact" is filled in
        "rows.file": [Requirement((Condition("rows.scale", ("big",)),))],
    }
    # "always" is required anyway; a form without conditions has none
    assert forms.conditional_requirements(HEADER) == {}


# ------------------------------------------------------------------- pattern messages
def test_a_pattern_failure_says_what_the_field_wants_in_the_pages_language():
    schema = load_form("fire_start")
    data = {"site_address": "广州市天河区珠江新城"}
    assert validate(schema, data)["site_address"] == ["须为海珠区内的地址（地址中包含“海珠区”）"]
    assert validate(schema, data, locale="en")["site_address"] == [
        "Must be an address in Haizhu District (the address contains “海珠区”)"
    ]
    assert "site_address" not in validate(schema, {"site_address": "广州市海珠区阅江西路"})
    # a pattern without a message still fails, generically
    assert validate(
        {"properties": {"code": {"type": "string", "pattern": "^P"}}}, {"code": "X"}
    ) == {"code": ["格式不正确"]}


def test_check_schema_wants_both_languages_of_a_pattern_message_on_a_patterned_field():
    field = {"type": "string", "pattern": "^P", "x-pattern-message": "以 P 开头"}
    assert check_schema({"properties": {"code": field}}) == [
        "/properties/code: give both x-pattern-message and x-pattern-message-en"
    ]
    lonely = {
        "type": "string",
        "x-pattern-message": "以 P 开头",
        "x-pattern-message-en": "Starts with P",
    }
    assert check_schema({"properties": {"code": lonely}}) == [
        "/properties/code: x-pattern-message on a field without a pattern"
    ]


def test_every_shipped_pattern_says_what_it_wants():
    """'Invalid format' alone leaves an applicant guessing what the field wants."""
    silent = [
        f"{key}{where}"
        for key in list_forms()
        for where, node in forms.validation._schema_nodes(load_form(key), "")
        if "pattern" in node and "x-pattern-message" not in node
    ]
    assert silent == []
