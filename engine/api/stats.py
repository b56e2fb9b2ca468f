"""Operations: per-stage statistics (staff) and the Prometheus scrape endpoint."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint
from prometheus_client import CONTENT_TYPE_LATEST

from ..services import stats
from .context import current_actor, database, now
from .errors import documents
from .schemas.stats import StageStatsSchema

blp = Blueprint("stats", __name__, description="运行统计 Operations")


@blp.route("/api/v1/stats/stages")
@blp.response(200, StageStatsSchema)
@documents(blp, 401, 403)
def stages():
    """Per stage and department: open, completed, median cycle time, SLA breaches."""
    with database().read() as session:
        at = now()
        return {
            "items": stats.stage_stats(session, current_actor(), at),
            "worker_lag_seconds": round(stats.worker_lag_seconds(session, at), 3),
        }


@blp.route("/metrics")
@blp.doc(
    security=[],
    responses={
        "200": {
            "description": "Prometheus text exposition format 0.0.4",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
def metrics():
    """Prometheus text format: open tasks, overdue tasks, SLA breaches, worker lag."""
    with database().read() as session:
        body = stats.metrics(session, now())
    return Response(
        body, mimetype=CONTENT_TYPE_LATEST.split(";")[0], content_type=CONTENT_TYPE_LATEST
    )
