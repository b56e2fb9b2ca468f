"""Figure 4: throughput scaling.

Cases driven start-to-end per second over HTTP on PostgreSQL: gunicorn with 4 sync workers vs
1. Each case is tests/fixtures/parallel_review.bpmn: POST /cases, complete the fire and the
civil-defense review (parallel), then the enterprise confirmation: 4 requests, 4 engine steps.
A pool of client threads (more than the workers) keeps the server saturated for a fixed
window; the figure is cases completed per second with 4 workers / with 1.
"""

from __future__ import annotations

import threading
import time

from . import setup_data

NAME = "throughput"
CLIENT_THREADS = 8


def _drive_case(client: setup_data.Client, enterprise_id: int) -> None:
    status, case = client.post(
        "/api/v1/cases",
        {
            "definition_key": "parallel_review",
            "project_name": "吞吐测试",
            "data": {},
            "enterprise_id": enterprise_id,
        },
    )
    assert status == 201, case
    while case["status"] == "running":
        task = case["open_tasks"][0]
        status, body = client.post(f"/api/v1/tasks/{task['id']}/complete", {"data": {}})
        assert status == 200, body
        case = body["case"]


def measure(url: str, seed: setup_data.Seed, workers: int, seconds: float) -> dict:
    with setup_data.Server(url, workers=workers) as server:
        client = setup_data.login(server.port, seed.users["admin"])
        for _ in range(3):  # warm every worker's spec and statement caches a little
            _drive_case(client, seed.enterprise_id)
        done: list[float] = []
        errors: list[BaseException] = []
        stop = time.monotonic() + seconds
        lock = threading.Lock()

        def worker():
            while time.monotonic() < stop:
                try:
                    _drive_case(client, seed.enterprise_id)
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)
                    return
                with lock:
                    done.append(time.monotonic())

        started = time.monotonic()
        threads = [threading.Thread(target=worker) for _ in range(CLIENT_THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        if errors:
            raise errors[0]
    return {"cases": len(done), "seconds": elapsed, "rate": len(done) / elapsed}


def run(quick: bool = False) -> dict:
    if not setup_data.postgres_available():
        return {"throughput_scaling_4v1": None}
    seconds = 6 if quick else 30
    with setup_data.postgres_url("throughput") as url:
        seed = setup_data.seed(url)
        one = measure(url, seed, 1, seconds)
        four = measure(url, seed, 4, seconds)
    return {
        "throughput_scaling_4v1": four["rate"] / one["rate"],
        "throughput_cases_per_s_1_worker": one["rate"],
        "throughput_cases_per_s_4_workers": four["rate"],
        "throughput_cases_1_worker": one["cases"],
        "throughput_cases_4_workers": four["cases"],
    }


if __name__ == "__main__":
    print(run(quick=True))
