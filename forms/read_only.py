"""Fields a form shows but does not ask for: ``readOnly`` at the top level of its schema.

Their values are what the case already holds (the items an officer listed in a correction
notice, the permit phase being applied for); whoever completes the task sees them and cannot
change them, through the web page or the API alike.
"""

from __future__ import annotations

from typing import Any


def read_only_keys(schema: dict[str, Any]) -> tuple[str, ...]:
    return tuple(key for key, sub in schema.get("properties", {}).items() if sub.get("readOnly"))


def keep_read_only(schema: dict[str, Any], data: dict, held: dict) -> dict:
    """``data`` with every read-only field as ``held`` (the case's data) has it: a submitted
    value is dropped, a missing one supplied."""
    keys = read_only_keys(schema)
    if not keys:
        return data
    kept = {key: value for key, value in data.items() if key not in keys}
    kept.update({key: held[key] for key in keys if held.get(key) is not None})
    return kept
