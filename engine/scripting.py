"""The restricted evaluator for scripts, gateway conditions, timer and DMN expressions.

RestrictedPython compiles the code with its guards (no imports, no dunder or underscore
attributes, no exec/eval/open); a trace hook bounds the run time of loops written in the script.
"""

from __future__ import annotations

import ast
import builtins
import sys
import threading
import time
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)

from .errors import ScriptError

MAX_RANGE = 1_000_000
_local = threading.local()


def _bounded_range(*args):
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise ScriptError(f"range() 超过 {MAX_RANGE} 项 (range too large)")
    return result


def _inplace(op: str, x, y):
    ops: dict[str, Callable] = {
        "+=": lambda a, b: a + b,
        "-=": lambda a, b: a - b,
        "*=": lambda a, b: a * b,
        "/=": lambda a, b: a / b,
        "//=": lambda a, b: a // b,
        "%=": lambda a, b: a % b,
    }
    if op not in ops:
        raise ScriptError(f"不支持的运算 {op}")
    return ops[op](x, y)


def _write_guard(obj):
    return obj


BUILTINS = dict(safe_builtins)
BUILTINS.update(
    {
        name: getattr(builtins, name)
        for name in (
            "dict",
            "list",
            "set",
            "tuple",
            "len",
            "min",
            "max",
            "sum",
            "sorted",
            "any",
            "all",
            "enumerate",
            "zip",
            "map",
            "filter",
            "reversed",
            "round",
            "abs",
            "isinstance",
            "str",
            "int",
            "float",
            "bool",
        )
    }
)
BUILTINS["range"] = _bounded_range
for _forbidden in ("open", "eval", "exec", "compile", "__import__", "globals", "locals", "vars"):
    BUILTINS.pop(_forbidden, None)

GUARDS = {
    "__builtins__": BUILTINS,
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": _write_guard,
    "_inplacevar_": _inplace,
    "datetime": datetime,
    "date": date,
    "timedelta": timedelta,
}


@lru_cache(maxsize=4096)
def compile_expression(source: str):
    result = compile_restricted_eval(source.strip())
    if result.errors:
        raise ScriptError("; ".join(result.errors))
    return result.code


@lru_cache(maxsize=2048)
def compile_script(source: str):
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            raise ScriptError(f"Line {node.lineno}: 脚本中不允许 import (imports are not allowed)")
    result = compile_restricted_exec(source)
    if result.errors:
        raise ScriptError("; ".join(result.errors))
    return result.code


def check_expression(source: str) -> str | None:
    """The compile error of an expression, or None."""
    try:
        compile_expression(source)
    except ScriptError as exc:
        return exc.detail
    except SyntaxError as exc:
        return str(exc)
    return None


def check_script(source: str) -> str | None:
    try:
        compile_script(source)
    except ScriptError as exc:
        return exc.detail
    except SyntaxError as exc:
        return str(exc)
    return None


class _Deadline:
    """sys.settrace hook that aborts the running script once its time budget is spent."""

    def __init__(self, seconds: float):
        self.until = time.monotonic() + seconds
        self.seconds = seconds

    def __call__(self, frame, event, arg):
        if time.monotonic() > self.until:
            raise ScriptError(f"脚本运行超过 {self.seconds:g} 秒 (script exceeded its time limit)")
        return self


def _run_bounded(func: Callable, seconds: float):
    if getattr(_local, "tracing", False):
        return func()
    previous = sys.gettrace()
    _local.tracing = True
    sys.settrace(_Deadline(seconds))
    try:
        return func()
    finally:
        sys.settrace(previous)
        _local.tracing = False


class RestrictedEvaluator:
    """Evaluates expressions and executes scripts against a data mapping."""

    def __init__(self, helpers: Mapping[str, object] | None = None, timeout_seconds: float = 1.0):
        self.helpers = dict(helpers or {})
        self.timeout_seconds = timeout_seconds

    def _globals(self, context: Mapping, external: Mapping | None) -> dict:
        scope = dict(GUARDS)
        scope.update(self.helpers)
        scope.update(external or {})
        scope.update(context)
        return scope

    def evaluate(self, expression: str, context: Mapping, external: Mapping | None = None):
        code = compile_expression(expression)
        scope = self._globals(context, external)
        return _run_bounded(lambda: eval(code, scope), self.timeout_seconds)  # noqa: S307

    def execute(self, script: str, context: dict, external: Mapping | None = None) -> None:
        """Run a script; names it assigns land in `context` (minus helpers and functions)."""
        code = compile_script(script)
        clash = (set(self.helpers) | set(external or {})) & set(context)
        if clash:
            raise ScriptError(f"数据字段与内置函数同名 (data overwrites helpers): {sorted(clash)}")
        scope = self._globals(context, external)
        reserved = set(GUARDS) | set(self.helpers) | set(external or {})
        _run_bounded(lambda: exec(code, scope), self.timeout_seconds)  # noqa: S102
        for key, value in scope.items():
            if key in reserved or callable(value) or key.startswith("_"):
                continue
            context[key] = value
        for key in [k for k in context if k not in scope]:
            del context[key]
