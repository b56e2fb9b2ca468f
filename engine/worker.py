"""The background loop: due jobs (BPMN timers, SLA warnings/breaches), then webhook deliveries.

Any number of workers may run against one PostgreSQL database (`pazhou worker` processes, or
the embedded thread of `pazhou serve --worker`): claims use ``FOR UPDATE SKIP LOCKED`` and a
lease, so each job runs once and a crashed worker's claims are retried after their lease.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime

import httpx

import webhooks

from .clock import system_clock
from .services import calendar_admin, jobs, outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerOptions:
    batch: int = 20
    lease_seconds: float = 60
    poll_interval: float = 1.0
    delivery_timeout: float = 10.0
    policy: webhooks.RetryPolicy = field(default_factory=webhooks.RetryPolicy)


def worker_name() -> str:
    return f"worker:{socket.gethostname()}:{os.getpid()}"[:80]


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run_due_jobs(
    database,
    now: datetime,
    limit: int = 20,
    *,
    actor: str | None = None,
    options: WorkerOptions | None = None,
    client: httpx.Client | None = None,
) -> int:
    """One pass: run up to ``limit`` due jobs, then attempt up to ``limit`` due deliveries.

    Returns how many jobs and deliveries were handled (0 means nothing was due).
    """
    options = options or WorkerOptions()
    actor = actor or worker_name()
    with database.write() as session:
        job_ids = jobs.claim_due(session, now, limit, options.lease_seconds)
    for job_id in job_ids:
        try:
            with database.write() as session:
                jobs.run(session, job_id, actor, now)
        except Exception as exc:  # one broken case must not stop the others
            log.warning("job %s failed: %s", job_id, _describe(exc), exc_info=True)
            with database.write() as session:
                jobs.record_failure(session, job_id, _describe(exc), now)

    # The lease must outlive a batch of slow receivers, or another worker would resend.
    lease = options.lease_seconds + limit * options.delivery_timeout
    with database.write() as session:
        work = outbox.claim_due(session, now, limit, lease)
    if work:
        http = client or httpx.Client()
        try:
            for item in work:
                try:
                    outcome = webhooks.deliver(
                        item.url,
                        item.secret,
                        item.msg_id,
                        item.event_type,
                        item.created_at,
                        item.payload,
                        timeout=options.delivery_timeout,
                        client=http,
                    )
                except (ValueError, TypeError) as exc:  # bad URL or secret: retrying won't help
                    outcome = webhooks.DeliveryOutcome(False, None, _describe(exc), 0.0, False)
                with database.write() as session:
                    outbox.record_outcome(session, item.id, outcome, now, options.policy)
        finally:
            if client is None:
                http.close()
    return len(job_ids) + len(work)


def run_forever(
    database,
    settings=None,
    once: bool = False,
    *,
    stop: threading.Event | None = None,
    clock=system_clock,
    options: WorkerOptions | None = None,
) -> int:
    """Run due work until stopped; ``once`` returns as soon as nothing is due."""
    options = options or WorkerOptions()
    stop = stop or threading.Event()
    actor = worker_name()
    failures = 0
    while not stop.is_set():
        try:
            if calendar_admin.check_due():
                with database.read() as session:
                    calendar_admin.keep_current(session)
            handled = run_due_jobs(
                database, clock.now(), options.batch, actor=actor, options=options
            )
            failures = 0
        except Exception as exc:  # database away: back off, keep the loop alive
            failures += 1
            log.error("worker pass failed: %s", _describe(exc), exc_info=True)
            if once:
                return 1
            stop.wait(min(options.poll_interval * 2**failures, 60))
            continue
        if handled == 0:
            if once:
                return 0
            stop.wait(options.poll_interval)
    return 0


def start_embedded(database, settings=None, options: WorkerOptions | None = None):
    """A daemon thread running :func:`run_forever` in this process; returns (thread, stop)."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_forever,
        args=(database, settings),
        kwargs={"stop": stop, "options": options},
        name="pazhou-worker",
        daemon=True,
    )
    thread.start()
    return thread, stop
