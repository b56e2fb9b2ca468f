"""The only module that drives SpiffWorkflow: start, complete, correlate, fire timers, serialize.

A case's state is stored without its specs (they are cached per definition version), and
completed history is pruned after each step so the per-step cost does not grow with the
case's age; the audit trail keeps the history.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from .errors import ScriptError, TaskNotReady
from .scripting import RestrictedEvaluator


class _RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    def __init__(self, evaluator: RestrictedEvaluator):
        super().__init__({})
        self.evaluator = evaluator

    def evaluate(self, expression, context, external_context=None):
        return self.evaluator.evaluate(expression, context, external_context)

    def execute(self, script, context, external_context=None):
        self.evaluator.execute(script, context, external_context)
        return True


class _StatelessSpecWorkflowConverter(BpmnWorkflowConverter):
    """Serializes a workflow without its specs; the caller hands the cached specs back in."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        spec = dct.pop("spec")
        subprocess_specs = dct.pop("subprocess_specs")
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_config = dict(SPIFF_CONFIG)
_config[BpmnWorkflow] = _StatelessSpecWorkflowConverter
_serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_config))
_encoder = _serializer._encoder_cls


@dataclass
class HumanTask:
    """A READY user/manual task as the inbox needs it."""

    spiff_id: str
    element_id: str
    process_key: str
    title: str
    lane: str | None
    properties: dict[str, str]
    data: dict


@dataclass
class StepResult:
    ready: list[HumanTask] = field(default_factory=list)
    stage: str | None = None
    completed: bool = False
    timers: dict[str, datetime] = field(default_factory=dict)
    script_problems: list[str] = field(default_factory=list)


class Runtime:
    """Wraps one BpmnWorkflow for the duration of a step."""

    def __init__(self, helpers: Mapping[str, object] | None = None, script_timeout: float = 1.0):
        self.evaluator = RestrictedEvaluator(helpers, script_timeout)
        self.script_engine = PythonScriptEngine(environment=_RestrictedEnvironment(self.evaluator))

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, spec, subprocess_specs: dict, data: dict) -> BpmnWorkflow:
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=self.script_engine)
        start = workflow.get_next_task(state=TaskState.READY)
        if start is not None:
            start.data.update(data)
        self._guarded(workflow.do_engine_steps)
        return workflow

    def load(self, state: bytes, spec, subprocess_specs: dict) -> BpmnWorkflow:
        dct = json.loads(zlib.decompress(state))
        dct.pop(_serializer.VERSION_KEY, None)
        dct["spec"] = spec
        dct["subprocess_specs"] = subprocess_specs
        workflow = _serializer.from_dict(dct)
        workflow.script_engine = self.script_engine
        return workflow

    def dump(self, workflow: BpmnWorkflow) -> bytes:
        registry = _serializer.registry
        registry._encoder_mode = True
        try:
            dct = _serializer.to_dict(workflow)
            dct[_serializer.VERSION_KEY] = _serializer.VERSION
            text = json.dumps(dct, cls=_encoder, separators=(",", ":"))
        finally:
            registry._encoder_mode = False
        return zlib.compress(text.encode(), 1)

    # -- actions ------------------------------------------------------------------------------

    def complete(self, workflow: BpmnWorkflow, spiff_id: str, data: Mapping) -> None:
        """Complete a READY human task with its form data, then run until every path waits."""
        try:
            task = workflow.get_task_from_id(UUID(spiff_id))
        except (SpiffWorkflowException, ValueError):
            raise TaskNotReady("任务已不存在 (the task no longer exists)") from None
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskNotReady()
        task.data.update(data)
        self._guarded(task.run)
        self._guarded(workflow.do_engine_steps)

    def task_data(self, workflow: BpmnWorkflow, spiff_id: str) -> dict:
        """The data a task holds (a called procedure's task: that procedure's data)."""
        try:
            task = workflow.get_task_from_id(UUID(spiff_id))
        except (SpiffWorkflowException, ValueError):
            return {}
        return dict(task.data) if task is not None else {}

    def waiting_messages(self, workflow: BpmnWorkflow) -> set[str]:
        return {
            event.name
            for event in workflow.waiting_events()
            if event.event_type.startswith("Message")
        }

    def correlate(self, workflow: BpmnWorkflow, name: str, payload: Mapping) -> bool:
        """Deliver a message; False when no path of the case waits for it."""
        if name not in self.waiting_messages(workflow):
            return False
        event = BpmnEvent(MessageEventDefinition(name), payload=dict(payload))
        try:
            workflow.send_event(event)
        except WorkflowException:
            return False
        self._guarded(workflow.do_engine_steps)
        return True

    def fire_timers(self, workflow: BpmnWorkflow) -> None:
        self._guarded(workflow.refresh_timers)
        self._guarded(workflow.do_engine_steps)

    def evaluate(self, expression: str, data: Mapping):
        return self.evaluator.evaluate(expression, data)

    def _guarded(self, action):
        try:
            return action()
        except ScriptError:
            raise
        except SpiffWorkflowException as exc:
            cause = exc.__cause__ or getattr(exc, "error", None)
            if isinstance(cause, ScriptError):
                raise ScriptError(f"{cause.detail} ({_where(exc)})") from None
            raise ScriptError(f"{_first_line(exc)} ({_where(exc)})") from None

    # -- observation --------------------------------------------------------------------------

    def observe(self, workflow: BpmnWorkflow, since: float) -> StepResult:
        """What the step left: ready human tasks, the newest stage reached, timers, completion."""
        result = StepResult(completed=workflow.completed)
        newest = -1.0
        for task in workflow.get_tasks():
            spec = task.task_spec
            props = _properties(spec)
            reached = task.state in (
                TaskState.READY,
                TaskState.STARTED,
                TaskState.WAITING,
                TaskState.COMPLETED,
            )
            if "stage" in props and reached and newest <= task.last_state_change >= since:
                newest = task.last_state_change
                result.stage = props["stage"]
            if task.state == TaskState.READY and spec.manual:
                result.ready.append(
                    HumanTask(
                        spiff_id=str(task.id),
                        element_id=getattr(spec, "bpmn_id", None) or spec.name,
                        process_key=task.workflow.spec.name,
                        title=getattr(spec, "bpmn_name", None) or spec.name,
                        lane=getattr(spec, "lane", None),
                        properties=props,
                        data=task.data,
                    )
                )
            if task.state == TaskState.WAITING and isinstance(spec, CatchingEvent):
                due = _timer_due(task)
                if due is not None:
                    result.timers[str(task.id)] = due
        return result

    def element_states(self, workflow: BpmnWorkflow) -> tuple[list[str], list[str]]:
        """(active, completed) BPMN element ids of the top-level process, for the diagram."""
        active, completed = set(), set()
        for task in workflow.get_tasks(skip_subprocesses=True):
            element = getattr(task.task_spec, "bpmn_id", None)
            if not element:
                continue
            if task.state in (TaskState.READY, TaskState.STARTED, TaskState.WAITING):
                active.add(element)
            elif task.state == TaskState.COMPLETED:
                completed.add(element)
        return sorted(active), sorted(completed - active)

    def data(self, workflow: BpmnWorkflow) -> dict:
        """The case's data as it stands: the open paths' data merged, newest change last."""
        if workflow.completed:
            return dict(workflow.data)
        open_states = (TaskState.READY, TaskState.STARTED, TaskState.WAITING)
        frontier = sorted(
            (t for t in workflow.get_tasks(skip_subprocesses=True) if t.state in open_states),
            key=lambda t: t.last_state_change,
        )
        if not frontier:
            last = workflow.last_task
            return dict(last.data) if last is not None else dict(workflow.data)
        merged: dict = {}
        for task in frontier:
            merged.update(task.data)
        return merged

    # -- bounded history ----------------------------------------------------------------------

    def prune(self, workflow: BpmnWorkflow) -> int:
        """Drop completed ancestors that nothing can reach any more; returns tasks removed.

        A loop (rectification rounds, re-reviews) appends a chain of finished tasks to the task
        tree. Once every open task descends from one finished task, the chain above it is
        history: re-root the tree there. Data flows parent -> child, so the new root keeps the
        data the open tasks will see.
        """
        # Events thrown with no catcher (a closing signal after the loop it ended) would ride
        # along in the state forever.
        workflow.get_events()
        removed = _prune_workflow(workflow)
        for subprocess in list(workflow.subprocesses.values()):
            if subprocess in workflow.subprocesses.values():
                removed += _prune_workflow(subprocess)
        return removed


def _prune_workflow(workflow) -> int:
    root = workflow.task_tree
    top = workflow.top_workflow
    new_root = root
    # Follow the single-child chain of finished tasks from the root.
    while len(new_root._children) == 1 and new_root.state == TaskState.COMPLETED:
        child = workflow.tasks.get(new_root._children[0])
        if child is None or child.state != TaskState.COMPLETED:
            break
        subprocess = top.subprocesses.get(new_root.id)
        if subprocess is not None and not subprocess.completed:
            break
        new_root = child
    if new_root is root:
        return 0
    removed = 0
    task = root
    keep_data = new_root.data
    while task is not new_root:
        next_id = task._children[0]
        if top.subprocesses.get(task.id) is not None:
            # A finished call activity: its subprocess is history too (rounds of a loop).
            removed += len(top.delete_subprocess(task))
        del workflow.tasks[task.id]
        removed += 1
        task = workflow.tasks[next_id]
    new_root._parent = None
    new_root.data = keep_data
    workflow.task_tree = new_root
    if workflow.last_task is not None and workflow.last_task.id not in workflow.tasks:
        workflow.last_task = None
    return removed


def _properties(spec) -> dict:
    extensions = getattr(spec, "extensions", None) or {}
    return dict(extensions.get("properties") or {})


def _timer_due(task) -> datetime | None:
    definition = getattr(task.task_spec, "event_definition", None)
    if not isinstance(definition, TimerEventDefinition):
        return None
    value = task._get_internal_data("event_value")
    if isinstance(value, dict):
        value = value.get("next")
    if not value:
        return None
    try:
        due = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return due if due.tzinfo else due.replace(tzinfo=UTC)


def _first_line(exc: Exception) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def _where(exc: Exception) -> str:
    task = getattr(exc, "task", None)
    spec = getattr(task, "task_spec", None)
    return getattr(spec, "bpmn_id", None) or getattr(spec, "name", "?")


def monotonic_marker() -> float:
    """A timestamp comparable with SpiffWorkflow's task.last_state_change."""
    return time.time()
