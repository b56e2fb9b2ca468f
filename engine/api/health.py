"""Liveness for load balancers: GET /health (no token)."""

from __future__ import annotations

from flask_smorest import Blueprint
from sqlalchemy import func, select, text

from ..models import Job
from .context import database, now
from .schemas.health import HealthSchema

blp = Blueprint("health", __name__, url_prefix="/api/v1", description="运行状态 Operations")


@blp.route("/health")
@blp.doc(security=[])
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="The database is unreachable")
def health():
    """Database reachability and how far the worker is behind on due jobs."""
    try:
        with database().read() as session:
            session.execute(text("SELECT 1"))
            oldest_due = session.scalar(select(func.min(Job.due_at)).where(Job.status == "pending"))
    except Exception:
        return {"status": "degraded", "database": "unavailable", "worker_lag_seconds": None}, 503
    lag = max(0.0, (now() - oldest_due).total_seconds()) if oldest_due else 0.0
    return {"status": "ok", "database": "ok", "worker_lag_seconds": round(lag, 3)}
