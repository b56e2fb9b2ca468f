"""The restricted evaluator refuses escapes and bounds run time."""

import time

import pytest

from engine.errors import ScriptError
from engine.scripting import RestrictedEvaluator, check_script

evaluator = RestrictedEvaluator({"double": lambda x: 2 * x}, timeout_seconds=0.5)


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('id')",
        "().__class__.__bases__[0].__subclasses__()",
        "open('/etc/passwd').read()",
        "eval('1+1')",
        "exec('x=1')",
        "[c for c in ().__class__.__mro__]",
        "getattr(area, '__class__')",
    ],
)
def test_escapes_are_refused(source):
    with pytest.raises((ScriptError, NameError, AttributeError, TypeError)):
        evaluator.evaluate(source, {"area": 1})


def test_import_statement_is_refused_at_compile_time():
    assert check_script("import os") is not None


def test_endless_loop_stops_within_the_time_limit():
    started = time.monotonic()
    with pytest.raises(ScriptError, match="time limit"):
        evaluator.execute("n = 0\nwhile True:\n    n += 1", {})
    assert time.monotonic() - started < 3


def test_huge_range_is_refused():
    with pytest.raises(ScriptError):
        evaluator.evaluate("sum(range(10**12))", {})


def test_scripts_assign_into_task_data_and_see_helpers():
    data = {"area_m2": 12000, "uses": ["商场"]}
    evaluator.execute(
        "special = area_m2 > 10000 and '商场' in uses\nscaled = double(area_m2)", data
    )
    assert data["special"] is True and data["scaled"] == 24000
    assert "double" not in data


def test_data_shadowing_a_helper_is_refused():
    with pytest.raises(ScriptError):
        evaluator.execute("x = 1", {"double": 3})
