"""Fields that are required only under a condition, read from the schema.

The forms say "field B is required when field A has value v" with ``if``/``then``
(``{"if": {"properties": {"a": {"const": "v"}}, "required": ["a"]}, "then": {"required":
["b"]}}``, alone or inside ``allOf``), ``if``/``else`` ("required unless") and
``dependentRequired`` ("required once A is filled in"). :func:`conditional_requirements`
lists, for each such field, the conditions under which it is required, so a form can show
them before the submit is refused. An ``if`` it cannot describe (anything beyond
``const``/``enum`` tests on sibling fields and ``required``) still marks the field, with no
condition (``Requirement.when == ()``).

Keys are label keys (dotted, without list indices: ``dangerous_works.expert_review_file``);
a condition inside a list's items tests a field of the same row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Condition", "Requirement", "conditional_requirements"]

_IGNORED_IN_TEST = frozenset(("type", "title", "description", "$comment"))


@dataclass(frozen=True)
class Condition:
    """Field ``field`` (a label key) holds one of ``values``; ``values is None``: it is filled in."""

    field: str
    values: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class Requirement:
    """Required when all of ``when`` hold (``unless``: required unless they all hold).
    ``when == ()``: a condition the schema states in a way not described here."""

    when: tuple[Condition, ...] = ()
    unless: bool = False


def conditional_requirements(schema: Any) -> dict[str, list[Requirement]]:
    """Label key -> the alternative conditions under which the field is required (any one
    suffices). Fields that are always required are left out."""
    result: dict[str, list[Requirement]] = {}
    _walk(schema, "", result)
    return result


def _walk(node: Any, prefix: str, result: dict[str, list[Requirement]]) -> None:
    if not isinstance(node, Mapping):
        return
    always = set(node.get("required") or [])
    properties = node.get("properties") if isinstance(node.get("properties"), Mapping) else {}

    def add(names: Any, requirement: Requirement) -> None:
        for name in names if isinstance(names, list) else []:
            if name in always or name not in properties:
                continue
            found = result.setdefault(f"{prefix}{name}", [])
            if requirement not in found:
                found.append(requirement)

    branches = [node] + [sub for sub in node.get("allOf") or [] if isinstance(sub, Mapping)]
    for branch in branches:
        if "if" in branch:
            when = _conditions(branch["if"], prefix)
            for key, unless in (("then", False), ("else", True)):
                target = branch.get(key)
                if isinstance(target, Mapping):
                    add(target.get("required"), Requirement(when or (), unless))
        dependent = branch.get("dependentRequired")
        if isinstance(dependent, Mapping):
            for trigger, names in dependent.items():
                add(names, Requirement((Condition(f"{prefix}{trigger}"),)))

    for name, sub in properties.items():
        if not isinstance(sub, Mapping):
            continue
        _walk(sub, f"{prefix}{name}.", result)
        if isinstance(sub.get("items"), Mapping):
            _walk(sub["items"], f"{prefix}{name}.", result)


def _conditions(test: Any, prefix: str) -> tuple[Condition, ...] | None:
    """The conditions an ``if`` schema tests, or ``None`` when it tests anything else."""
    if not isinstance(test, Mapping) or set(test) - {"properties", "required"} - _IGNORED_IN_TEST:
        return None
    properties = test.get("properties") or {}
    required = test.get("required") or []
    if not isinstance(properties, Mapping) or not isinstance(required, list):
        return None
    conditions = []
    for name, sub in properties.items():
        if not isinstance(sub, Mapping) or set(sub) - {"const", "enum"} - _IGNORED_IN_TEST:
            return None
        if "const" in sub:
            values: tuple[Any, ...] = (sub["const"],)
        elif isinstance(sub.get("enum"), list) and sub["enum"]:
            values = tuple(sub["enum"])
        else:
            return None
        conditions.append(Condition(f"{prefix}{name}", values))
    conditions += [Condition(f"{prefix}{name}") for name in required if name not in properties]
    return tuple(conditions) or None
