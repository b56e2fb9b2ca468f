"""Figure 1: engine overhead.

Numerator: median wall time of POST /api/v1/tasks/{id}/complete against a real gunicorn server
(1 sync worker, SQLite file), measured by the client, so it includes HTTP, auth, validation,
the locked step, the DB commit and the response.

Denominator: median time raw SpiffWorkflow needs in-process for the same instance and the same
BPMN (tests/fixtures/rectification_loop.bpmn, parsed by SpiffBpmnParser, default script engine,
BpmnWorkflowSerializer with the spiff config): deserialize, complete the user task, run engine
steps, serialize. The raw instance always restarts from its round-1 state (the smallest it ever
is), so the baseline never pays for SpiffWorkflow's own growing history.
"""

from __future__ import annotations

import time

from . import setup_data

NAME = "engine_overhead"
BPMN = "rectification_loop.bpmn"
PROCESS = "rectification_loop"


def raw_spiff_times(iterations: int, warmup: int = 10) -> list[float]:
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
    from SpiffWorkflow.util.task import TaskState

    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(setup_data.FIXTURES / BPMN))
    spec = parser.get_spec(PROCESS)
    subprocess_specs = parser.get_subprocess_specs(PROCESS)
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    workflow = BpmnWorkflow(spec, subprocess_specs)
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

    for _ in range(warmup):
        one_round()
    return [one_round() for _ in range(iterations)]


def http_times(iterations: int, warmup: int = 10) -> list[float]:
    with setup_data.sqlite_url("overhead") as url:
        seed = setup_data.seed(url)
        with setup_data.Server(url, workers=1) as server:
            admin = setup_data.login(server.port, seed.users["admin"])
            officer = setup_data.login(server.port, seed.users["quality_safety"])
            status, case = admin.post(
                "/api/v1/cases",
                {"definition_key": PROCESS, "project_name": "基准测试", "data": {}},
            )
            assert status == 201, case
            task_id = case["open_tasks"][0]["id"]
            times = []
            for i in range(warmup + iterations):
                started = time.perf_counter()
                status, body = officer.post(
                    f"/api/v1/tasks/{task_id}/complete", {"data": {"passed": False}}
                )
                elapsed = time.perf_counter() - started
                assert status == 200, body
                task_id = body["case"]["open_tasks"][0]["id"]
                if i >= warmup:
                    times.append(elapsed)
            return times


def run(quick: bool = False) -> dict:
    iterations = 40 if quick else 300
    raw = raw_spiff_times(iterations * 2)
    http = http_times(iterations)
    raw_median = setup_data.median(raw)
    http_median = setup_data.median(http)
    return {
        "engine_overhead_ratio": http_median / raw_median,
        "engine_overhead_http_median_ms": http_median * 1000,
        "engine_overhead_raw_spiff_median_ms": raw_median * 1000,
        "engine_overhead_http_samples": len(http),
    }


if __name__ == "__main__":
    print(run(quick=True))
