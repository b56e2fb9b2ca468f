"""The English catalogue of the web UI: every Chinese string the pages translate has an entry,
no entry is written twice (a later duplicate silently wins), and the wording walked through on
the English pages stays as the users read it."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from engine.web.i18n import CATALOGUE_EN

WEB = Path(__file__).resolve().parents[2] / "engine" / "web"
_CALL = re.compile(r"""\b(?:_|gettext|ngettext)\(\s*(["'])(.*?)\1""", re.S)
_CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_translated_chinese_string_has_an_english_entry():
    sources = [*WEB.glob("templates/*.html"), *WEB.glob("*.py")]
    missing = sorted(
        {
            (path.name, match.group(2))
            for path in sources
            for match in _CALL.finditer(path.read_text(encoding="utf-8"))
            if _CJK.search(match.group(2)) and match.group(2) not in CATALOGUE_EN
        }
    )
    assert not missing, missing


def test_no_catalogue_key_is_written_twice():
    tree = ast.parse((WEB / "i18n.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
            assert len(keys) == len(set(keys)), sorted({k for k in keys if keys.count(k) > 1})


def test_the_english_wording_users_read():
    # Who handles a case (an enterprise's "file" was a different word for the same case).
    assert CATALOGUE_EN["谁在办理我的案件"] == "Who is handling my case"
    assert CATALOGUE_EN["谁在办理此案件"] == "Who is handling this case"
    # An open task nobody took: "Ready" was the API's status, not what an officer sees.
    assert CATALOGUE_EN["待认领"] == "Unclaimed"
    # A webhook delivery that gave up reads as failed, not as the queue's "dead".
    assert CATALOGUE_EN["已失败"] == "Failed"
    assert CATALOGUE_EN["办理时限（工作日）"] == "Time limit (working days)"


ROOT = WEB.parents[1]


def _english_texts():
    """The English the users read that is not in the catalogue: form labels, titles and
    choices (forms/*.json) and BPMN ``name_en`` values (processes/*.bpmn)."""
    for path in sorted((ROOT / "forms").glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        for key, value in _walk(schema):
            if key in ("x-title-en", "x-labels-en", "x-options-en"):
                yield from ((path.name, text) for text in _strings(value))
    for path in sorted((ROOT / "processes").glob("*.bpmn")):
        for value in re.findall(r'name="name_en" value="([^"]*)"', path.read_text("utf-8")):
            yield path.name, value


def _walk(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)


def test_english_labels_spell_one_way_and_wrap_between_words():
    texts = list(_english_texts())
    assert len(texts) > 100
    # US spelling throughout, as the process and department names have it (civil air defense)
    assert not [t for t in texts if re.search(r"defence", t[1], re.I)]
    # "a/b/c" is one word to the browser: a narrow label column broke it mid-word
    assert not [t for t in texts if re.search(r"[A-Za-z]{4,}/[A-Za-z]{4,}/", t[1])]
