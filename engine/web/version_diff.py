"""What changed between two versions of a process, as an analyst reads it: elements added and
removed by name, and for each changed element the setting, its old value and its new one."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from ..bpmn_xml import SPIFF_NS, XmlProblem, parse_secure

# Diagram layout and wiring: moving a shape or re-routing an edge is not a change of procedure.
_SKIP_TAGS = {"incoming", "outgoing", "flowNodeRef", "BPMNShape", "BPMNEdge", "Bounds", "waypoint"}
# Expressions that decide what the procedure does, by the tag that holds them.
_EXPRESSIONS = (
    "conditionExpression",
    "script",
    "timeDuration",
    "timeDate",
    "timeCycle",
    "calledDecisionId",
    "preScript",
    "postScript",
)
# Attributes that change what the procedure does: the wiring, called processes, defaults.
_ATTRIBUTES = (
    "sourceRef",
    "targetRef",
    "calledElement",
    "default",
    "attachedToRef",
    "cancelActivity",
)
NAME = "name"
TYPE = "type"
# A user task's department: its `department` property (a quoted code or an expression), else
# the name of its lane. Compared as one setting, so moving a task between lanes and setting
# the property read alike.
DEPARTMENT = "department"
_LANE = "lane"
_QUOTED_CODE = re.compile(r"""^\s*['"]([a-z_]+)['"]\s*$""")
_MAX_VALUE = 80


@dataclass
class Element:
    id: str
    name: str | None
    settings: dict[str, str | None] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass
class Change:
    element: Element
    settings: list[tuple[str, str | None, str | None]]  # (setting, old, new)


@dataclass
class Summary:
    first: bool = False
    added: list[Element] = field(default_factory=list)
    removed: list[Element] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def elements(xml: str, process_id: str | None = None) -> dict[str, Element]:
    """The elements of process ``process_id`` (of the whole file if None) a reader knows by
    id. A SpiffWorkflow property or an expression belongs to the nearest element holding it
    (the task, not its process; a boundary event, not its timer definition), so a changed
    task does not make its process count as changed too."""
    try:
        root = parse_secure(xml.encode("utf-8"))
    except XmlProblem:
        return {}
    if process_id is not None:
        processes = [node for node in root.iter() if _is_process(node, process_id)]
        root = processes[0] if processes else root
    found: dict[str, Element] = {}
    for node in root.iter():
        if isinstance(node.tag, str) and node.get("id") and _named_by_id(node):
            element = Element(node.get("id"), node.get("name"), {TYPE: _local(node)})
            for attribute in _ATTRIBUTES:
                if node.get(attribute) is not None:
                    element.settings[attribute] = node.get(attribute)
            found[node.get("id")] = element
    for node in root.iter():
        if isinstance(node.tag, str) and _local(node) == "flowNodeRef":
            lane, member = node.getparent(), found.get((node.text or "").strip())
            if member is not None and lane is not None:
                member.settings[_LANE] = lane.get("name") or lane.get("id")
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        if node.tag == f"{{{SPIFF_NS}}}property":
            setting, value = node.get("name"), node.get("value")
        elif _local(node) in _EXPRESSIONS:
            setting, value = _local(node), (node.text or "").strip()
        else:
            continue
        owner = _owner(node, found)
        if owner is not None and setting:
            owner.settings[setting] = value
    for element in found.values():
        _settle_defaults(element.settings)
    return found


def _settle_defaults(settings: dict[str, str | None]) -> None:
    """Settings as they take effect: a user task's department, BPMN's defaults spelt out (an
    editor may drop cancelActivity="true" when it saves)."""
    lane = settings.pop(_LANE, None)
    if settings.get(TYPE) == "userTask":
        expression = settings.get(DEPARTMENT)
        quoted = _QUOTED_CODE.match(expression) if expression else None
        settings[DEPARTMENT] = quoted.group(1) if quoted else (expression or lane)
    if settings.get(TYPE) == "boundaryEvent":
        settings.setdefault("cancelActivity", "true")


def summarize(versions_xml: list[str], process_id: str | None = None) -> list[Summary]:
    """Per version (oldest first): what changed in the process since the version before."""
    summaries = []
    previous: dict[str, Element] | None = None
    for xml in versions_xml:
        current = elements(xml, process_id)
        if previous is None:
            summaries.append(Summary(first=True))
        else:
            summaries.append(_compare(previous, current))
        previous = current
    return summaries


def _compare(before: dict[str, Element], after: dict[str, Element]) -> Summary:
    summary = Summary(
        added=[after[key] for key in sorted(set(after) - set(before))],
        removed=[before[key] for key in sorted(set(before) - set(after))],
    )
    for key in sorted(set(before) & set(after)):
        old, new = before[key], after[key]
        settings = [(NAME, old.name, new.name)] if old.name != new.name else []
        for setting in sorted(set(old.settings) | set(new.settings)):
            was, now = old.settings.get(setting), new.settings.get(setting)
            if was != now:
                settings.append((setting, _short(was), _short(now)))
        if settings:
            summary.changed.append(Change(new, settings))
    return summary


def _is_process(node, process_id: str) -> bool:
    return isinstance(node.tag, str) and _local(node) == "process" and node.get("id") == process_id


def _local(node) -> str:
    return etree.QName(node).localname


def _named_by_id(node) -> bool:
    tag = _local(node)
    return tag not in _SKIP_TAGS and not tag.endswith("EventDefinition")


def _owner(node, found: dict[str, Element]) -> Element | None:
    parent = node.getparent()
    while parent is not None:
        element = found.get(parent.get("id")) if parent.get("id") else None
        if element is not None:
            return element
        parent = parent.getparent()
    return None


def _short(value: str | None) -> str | None:
    if value is None or len(value) <= _MAX_VALUE:
        return value
    return value[: _MAX_VALUE - 1] + "…"
