"""Who holds a case now, until when, and whether the enterprise must act: for lists and detail.

The case list builds these for a whole page with two queries (open tasks, stage changes);
the case page builds the same from the rows it already read, so both show one rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from ..departments import ENTERPRISE
from ..models import Case, Event, Task
from ..services import cases as case_service


@dataclass(frozen=True)
class CaseOverview:
    open_tasks: list[Task]
    # Department codes holding the case, in the order their tasks arrived (no repeats).
    holders: list[str]
    # The open task whose deadline is the case's (the earliest), or None without a limit.
    due_task: Task | None
    # An open task of the case belongs to the enterprise.
    action_needed: bool
    # Every stage the case has been in (from its case.stage_changed events).
    stages_passed: frozenset[str] = field(default_factory=frozenset)
    # A running case with no open task: the messages it waits for (BPMN message names) and
    # the earliest timer it waits on, as the last engine step recorded them (case.summary).
    waiting_for: tuple[str, ...] = ()
    waiting_until: datetime | None = None


def build(case: Case, open_tasks: list[Task], stages_passed: Iterable[str]) -> CaseOverview:
    holders = list(dict.fromkeys(task.department for task in open_tasks))
    timed = [task for task in open_tasks if task.due_at is not None]
    due_task = min(timed, key=lambda task: (task.due_at, task.id)) if timed else None
    passed = set(stages_passed)
    if case.stage:
        passed.add(case.stage)
    waiting_for, waiting_until = _waiting(case, open_tasks)
    return CaseOverview(
        open_tasks=open_tasks,
        holders=holders,
        due_task=due_task,
        action_needed=ENTERPRISE in holders,
        stages_passed=frozenset(passed),
        waiting_for=waiting_for,
        waiting_until=waiting_until,
    )


def _waiting(case: Case, open_tasks: list[Task]) -> tuple[tuple[str, ...], datetime | None]:
    if case.status != "running" or open_tasks:
        return (), None
    summary = case.summary or {}
    until = summary.get("waiting_until")
    try:
        until = datetime.fromisoformat(until) if until else None
    except (TypeError, ValueError):
        until = None
    return tuple(summary.get("waiting_for") or ()), until


def for_page(session: Session, cases: list[Case]) -> dict[int, CaseOverview]:
    """Overviews of a page of cases: two queries, whatever the page size."""
    ids = [case.id for case in cases]
    tasks = case_service.open_tasks_of_cases(session, ids)
    passed = case_service.stages_passed(session, ids)
    return {case.id: build(case, tasks[case.id], passed[case.id]) for case in cases}


def for_case(case: Case, open_tasks: list[Task], events: list[Event]) -> CaseOverview:
    """The overview of one case from its open tasks and timeline, read already (no query)."""
    passed: set[str] = set()
    for event in events:
        if event.type == "case.stage_changed":
            passed |= case_service.stages_of_change(event.payload)
    return build(case, open_tasks, passed)
