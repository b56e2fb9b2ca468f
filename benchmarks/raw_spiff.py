"""The denominator of figure 1: raw SpiffWorkflow, run the way a library user runs it.

The same BPMN parsed with SpiffBpmnParser, SpiffWorkflow's own script engine (given only the
names the shipped procedures call), BpmnWorkflowSerializer with the spiff config; a round is
deserialize, complete the waiting user task, run the engine steps, serialize. Rounds run in a
process of their own (RawSpiffProcess), restarting each time from the same saved state.
"""

from __future__ import annotations

import multiprocessing
import os
import time

from . import setup_data

BPMN = "rectification_loop.bpmn"
PROCESS = "rectification_loop"
WARMUP = 30  # untimed rounds before a timed block: back in the CPU caches


REAL_PROCESSES = ("rectification", "construction_permit_phased", "joint_completion_acceptance")
PROCEDURE = "rectification"
PROCEDURE_TASK = "Task_issue_notice"


def procedure_start(uscc: str) -> dict:
    """The start form of a rectification, as quality-safety fills it."""
    return {
        "project_code": "2026-440105-47-01-000001",
        "project_name": "琶洲数字经济总部项目",
        "owner_name": "琶洲基准测试有限公司",
        "owner_uscc": uscc,
        "rect_source": "日常监督检查",
        "rect_severity": "一般",
        "rect_category": "安全",
        "rect_problems": [{"description": "3号楼临边防护缺失", "clause": "JGJ 80-2016 第4.1.1条"}],
    }


def procedure_notice(uscc: str, today: str) -> dict:
    """The rectification notice quality-safety issues (the form of Task_issue_notice)."""
    return {
        "rect_notice_type": "限期整改",
        "doc_word": "穗海建改",
        "doc_no": "2026-0001",
        "issue_date": today,
        "responsible_entity": uscc,
        "responsible_entity_name": "琶洲基准测试有限公司",
        "rect_problems": [{"description": "3号楼临边防护缺失", "clause": "JGJ 80-2016 第4.1.1条"}],
        "inspectors": ["监督员甲", "监督员乙"],
        "signer": "科长丙",
    }


def raw_workflow(process_key: str | None = None, script_engine=None):
    """(serializer, new workflow) as a SpiffWorkflow user builds them: SpiffBpmnParser, the
    default script engine unless one is given, BpmnWorkflowSerializer with the spiff config. The fixture (None)
    or one of the shipped procedures (with every shipped BPMN and DMN file)."""
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

    parser = SpiffBpmnParser()
    if process_key is None:
        process_key = PROCESS
        parser.add_bpmn_file(str(setup_data.FIXTURES / BPMN))
    else:
        files = [str(path) for path in setup_data.shipped_process_files()]
        parser.add_bpmn_files([name for name in files if name.endswith(".bpmn")])
        parser.add_dmn_files([name for name in files if name.endswith(".dmn")])
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    workflow = BpmnWorkflow(
        parser.get_spec(process_key),
        parser.get_subprocess_specs(process_key),
        script_engine=script_engine,
    )
    return serializer, workflow


def raw_script_engine():
    """SpiffWorkflow's own script engine with the names the shipped procedures call (the
    rectification timer computes its date with add_working_days)."""
    from datetime import date, datetime, timedelta

    from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

    from engine.calendar import add_working_days

    names = {
        "add_working_days": add_working_days,
        "date": date,
        "datetime": datetime,
        "timedelta": timedelta,
    }
    return PythonScriptEngine(environment=TaskDataEnvironment(names))


def raw_spiff_round():
    """A function that runs (and times) one raw SpiffWorkflow round from the round-1 state."""
    from SpiffWorkflow.util.task import TaskState

    serializer, workflow = raw_workflow()
    workflow.do_engine_steps()
    state = serializer.serialize_json(workflow)

    def one_round() -> float:
        started = time.perf_counter()
        wf = serializer.deserialize_json(state)
        task = wf.get_next_task(state=TaskState.READY, manual=True)
        task.data.update({"passed": False})
        task.run()
        wf.do_engine_steps()
        serializer.serialize_json(wf)
        elapsed = time.perf_counter() - started
        assert wf.get_next_task(state=TaskState.READY, manual=True) is not None
        return elapsed

    return one_round


def raw_procedure_round():
    """A function that runs (and times) one raw round of the procedure task: the instance
    restarts each time from the state in which the task waits."""
    from datetime import date

    from SpiffWorkflow.util.task import TaskState

    script_engine = raw_script_engine()
    serializer, workflow = raw_workflow(PROCEDURE, script_engine)
    uscc = "91440101MA5CXXXX0X"  # the raw run validates no form; any text will do
    workflow.get_next_task(state=TaskState.READY).data.update(procedure_start(uscc))
    workflow.do_engine_steps()
    state = serializer.serialize_json(workflow)
    notice = procedure_notice(uscc, date.today().isoformat())

    def one_round() -> float:
        started = time.perf_counter()
        wf = serializer.deserialize_json(state)
        wf.script_engine = script_engine
        task = wf.get_next_task(state=TaskState.READY, spec_name=PROCEDURE_TASK)
        task.data.update(notice)
        task.run()
        wf.do_engine_steps()
        serializer.serialize_json(wf)
        elapsed = time.perf_counter() - started
        assert wf.get_next_task(state=TaskState.READY, spec_name="Task_enterprise_rectify")
        return elapsed

    return one_round


def raw_roundtrip_ms(process_key: str | None = None, samples: int = 200) -> float:
    """Raw SpiffWorkflow deserialize + serialize of a new instance, in ms: the fixture (None)
    or one of the shipped procedures. Context for figure 1, whose fixture is small: the raw
    serializer writes the whole spec with every instance, the engine stores state alone."""
    serializer, workflow = raw_workflow(process_key)
    state = serializer.serialize_json(workflow)
    for _ in range(WARMUP):
        serializer.serialize_json(serializer.deserialize_json(state))
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        serializer.serialize_json(serializer.deserialize_json(state))
        times.append(time.perf_counter() - started)
    return setup_data.median(times) * 1000


def _raw_worker(conn, cpus) -> None:
    """In a process of its own: time blocks of raw rounds on request."""
    if cpus:
        os.sched_setaffinity(0, cpus)
    rounds = {"raw": raw_spiff_round(), "raw_procedure": raw_procedure_round()}
    while (request := conn.recv()) is not None:
        kind, count, warmup = request
        one_round = rounds[kind]
        for _ in range(warmup):
            one_round()
        conn.send([one_round() for _ in range(count)])


class RawSpiffProcess:
    """Raw SpiffWorkflow in a clean process, as a library user runs it.

    In the process that also seeds the database and drives HTTP the same rounds ran up to
    1.6x slower and varied from run to run; in a process of their own they are steady.
    """

    def __init__(self, cpus: set | None = None):
        self.cpus = cpus

    def __enter__(self) -> RawSpiffProcess:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_raw_worker, args=(child, self.cpus), daemon=True)
        self.process.start()
        return self

    def block(self, count: int, warmup: int, kind: str = "raw") -> list[float]:
        self.conn.send((kind, count, warmup))
        return self.conn.recv()

    def __exit__(self, *exc) -> None:
        self.conn.send(None)
        self.process.join(timeout=30)
