"""Figure 2: history growth.

rectification_loop cases driven through the service layer (engine.services.tasks.complete,
SQLite file, one write transaction per completion incl. COMMIT). Old cases are driven to just
before round 200; then rounds 196-205 of each old case are timed, each back to back with
round 1 of a freshly started case. The figure is the median of the round-~200 completions
over the median of the round-1 completions, so load drift on a shared machine hits both
sides alike. Also reports the stored state size at both ends.
"""

from __future__ import annotations

import time

from sqlalchemy import select

from . import setup_data

NAME = "history_growth"
PROCESS = "rectification_loop"
WINDOW = 10


def run(quick: bool = False) -> dict:
    from engine.db import Database
    from engine.models import CaseState, Task
    from engine.services import cases, tasks
    from engine.services.actors import SYSTEM, Actor

    rounds = 200
    parallel_cases = 2 if quick else 5
    officer = Actor("bench.qs", "officer", "quality_safety")
    with setup_data.sqlite_url("history") as url:
        setup_data.seed(url, fixtures=("rectification_loop.bpmn",))
        db = Database(url)
        case_ids = []
        with db.write() as session:
            warm = cases.start_case(session, SYSTEM, PROCESS, "预热", {}, setup_data.NOW).id
            for i in range(parallel_cases):
                case_ids.append(
                    cases.start_case(session, SYSTEM, PROCESS, f"整改{i}", {}, setup_data.NOW).id
                )

        def open_task(case_id: int) -> int:
            with db.read() as session:
                return session.scalars(
                    select(Task.id).where(Task.case_id == case_id, Task.status == "ready")
                ).one()

        def state_size(case_id: int) -> int:
            with db.read() as session:
                return len(session.get(CaseState, case_id).state)

        # Warm the spec and statement caches on a throwaway case, so round 1 is not a cold start.
        for _ in range(5):
            with db.write() as session:
                tasks.complete(session, officer, open_task(warm), {"passed": False}, setup_data.NOW)

        def timed_round(case_id: int) -> float:
            task_id = open_task(case_id)
            started = time.perf_counter()
            with db.write() as session:
                tasks.complete(session, officer, task_id, {"passed": False}, setup_data.NOW)
            return time.perf_counter() - started

        # Drive the old cases to just before round 200 (untimed).
        for _ in range(rounds - WINDOW // 2 - 1):
            for case_id in case_ids:
                timed_round(case_id)
        # Then time rounds 196-205 of each old case, each one back to back with round 1 of a
        # freshly started case, so load drift on a shared machine hits both sides alike.
        first, last = [], []
        sizes = {"first": [], "last": [state_size(case_ids[0])]}
        for _ in range(WINDOW):
            for case_id in case_ids:
                with db.write() as session:
                    fresh = cases.start_case(
                        session, SYSTEM, PROCESS, "新案", {}, setup_data.NOW
                    ).id
                last.append(timed_round(case_id))
                first.append(timed_round(fresh))
        sizes["first"].append(state_size(fresh))
        db.dispose()

    first_median = setup_data.median(first)
    last_median = setup_data.median(last)
    return {
        "history_growth_ratio": last_median / first_median,
        "history_round1_median_ms": first_median * 1000,
        "history_round200_median_ms": last_median * 1000,
        "history_state_bytes_round1": setup_data.median(sizes["first"]),
        "history_state_bytes_round200": setup_data.median(sizes["last"]),
    }


if __name__ == "__main__":
    print(run(quick=True))
