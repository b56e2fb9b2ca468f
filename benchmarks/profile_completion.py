"""Where a task completion spends its time: `python -m benchmarks.profile_completion [N]`.

Runs N completions of the figure-1 case (tests/fixtures/rectification_loop.bpmn) in-process
through the Flask app against a SQLite file, and prints

- the SQL statements one completion sends (the count is also a figure-1 raw figure: unlike
  milliseconds it does not drift with the machine's load), and
- a profile of the N completions: pyinstrument's call tree if it is installed
  (`pip install pyinstrument`), cProfile's cumulative list of engine/ functions otherwise.
"""

from __future__ import annotations

import os
import sys

from sqlalchemy import event

from . import setup_data

PROCESS = "rectification_loop"


class CompletionLoop:
    """A seeded app, an officer's token and the case's current open task."""

    def __init__(self, url: str):
        from engine import create_app

        seed = setup_data.seed(url)
        instance = os.path.dirname(url.split("///", 1)[-1])
        self.app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": instance})
        self.client = self.app.test_client()
        admin = self._headers(seed.users["admin"])
        self.officer = self._headers(seed.users["quality_safety"])
        response = self.client.post(
            "/api/v1/cases",
            json={"definition_key": PROCESS, "project_name": "基准测试", "data": {}},
            headers=admin,
        )
        assert response.status_code == 201, response.get_json()
        self.task_id = response.get_json()["open_tasks"][0]["id"]

    def _headers(self, username: str) -> dict:
        response = self.client.post(
            "/api/v1/auth/token", json={"username": username, "password": setup_data.PASSWORD}
        )
        return {"Authorization": "Bearer " + response.get_json()["token"]}

    def complete(self) -> None:
        response = self.client.post(
            f"/api/v1/tasks/{self.task_id}/complete",
            json={"data": {"passed": False}},
            headers=self.officer,
        )
        assert response.status_code == 200, response.get_json()
        self.task_id = response.get_json()["case"]["open_tasks"][0]["id"]

    def statements(self) -> list[str]:
        """The SQL one completion sends, BEGIN and COMMIT included."""
        engine = self.app.extensions["pazhou"]["db"].engine
        sent: list[str] = []

        def on_execute(conn, cursor, statement, params, context, executemany):
            sent.append(" ".join(statement.split()))

        def on_commit(conn):
            sent.append("COMMIT")

        event.listen(engine, "before_cursor_execute", on_execute)
        event.listen(engine, "commit", on_commit)
        try:
            self.complete()
        finally:
            event.remove(engine, "before_cursor_execute", on_execute)
            event.remove(engine, "commit", on_commit)
        return sent


def statements_per_completion() -> list[str]:
    with setup_data.sqlite_url("statements") as url:
        loop = CompletionLoop(url)
        for _ in range(3):
            loop.complete()
        return loop.statements()


def main(argv: list[str]) -> int:
    count = int(argv[0]) if argv else 300
    with setup_data.sqlite_url("profile") as url:
        loop = CompletionLoop(url)
        for _ in range(20):
            loop.complete()
        sent = loop.statements()
        print(f"{len(sent)} statements per completion:")
        for statement in sent:
            print("  ", statement[:150])
        try:
            from pyinstrument import Profiler
        except ImportError:
            Profiler = None
        if Profiler is not None:
            profiler = Profiler(interval=0.0002)
            profiler.start()
            for _ in range(count):
                loop.complete()
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False))
        else:
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.enable()
            for _ in range(count):
                loop.complete()
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats("engine/", 40)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
