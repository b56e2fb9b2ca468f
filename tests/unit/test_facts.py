"""Earlier answers on the task page: choices by their titles in the page's language."""

from __future__ import annotations

import forms
from engine.web.facts import show


def test_a_choice_reads_as_its_title_in_the_pages_language():
    schema = forms.load_form("onboarding_assign_cso")
    english = forms.english_option_titles(schema)
    key, titles = next(iter(english.items()))
    value = next(iter(titles))
    node = schema
    for part in key.split("."):
        node = node.get("properties", {}).get(part) or node.get("items", {}).get(
            "properties", {}
        ).get(part)
    assert show(value, node, {}, schema, key, "en") == titles[value]
    assert show(value, node, {}, schema, key, "zh") != titles[value]


def test_a_department_code_among_the_choices_reads_as_the_department():
    node = {"type": "string", "enum": ["service_center", "fire", "enterprise"]}
    assert show("service_center", node, {}, None, "", "zh") == "综合服务窗口/代办"
    assert show("fire", node, {}, None, "", "en") == "Fire design review and acceptance"
    assert show("enterprise", node, {}, None, "", "zh") == "企业"
