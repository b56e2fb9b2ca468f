"""The English catalogue of the web UI: every Chinese string the pages translate has an entry,
no entry is written twice (a later duplicate silently wins), and the wording walked through on
the English pages stays as the users read it."""

from __future__ import annotations

import ast
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
