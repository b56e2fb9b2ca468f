"""Every message a process waits for has a readable name, in Chinese and in English."""

from __future__ import annotations

import re
from pathlib import Path

from engine.web.display import MESSAGE_NAMES
from engine.web.i18n import CATALOGUE_EN

PROCESSES = Path(__file__).resolve().parents[2] / "processes"


def test_every_bpmn_message_has_a_readable_name_in_both_languages():
    names = set()
    for path in PROCESSES.glob("*.bpmn"):
        names |= set(re.findall(r'<bpmn:message\s[^>]*name="([^"]+)"', path.read_text()))
    assert "bim_model_accepted" in names
    missing = sorted(names - MESSAGE_NAMES.keys())
    assert not missing, missing
    for zh in MESSAGE_NAMES.values():
        assert CATALOGUE_EN.get(zh), zh
