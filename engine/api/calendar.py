"""The working calendar: list known years, import a year's schedule (admins)."""

from __future__ import annotations

import json

from flask_smorest import Blueprint

from ..services import calendar_admin
from .context import current_actor, database, now
from .errors import documents
from .schemas.calendar import YearImportSchema, YearListSchema, YearSchema

blp = Blueprint("calendar", __name__, url_prefix="/api/v1", description="工作日历 Working calendar")


def year_payload(info: calendar_admin.YearInfo) -> dict:
    return {
        "year": info.year,
        "source": info.source,
        "imported_at": info.imported_at,
        "holidays": info.holidays,
        "workdays": info.workdays,
        "recomputed_tasks": info.recomputed_tasks,
    }


@blp.route("/calendar/years")
@blp.response(200, YearListSchema)
@documents(blp, 401)
def list_years():
    """Every year whose statutory schedule is known (built in or imported)."""
    current_actor()
    with database().read() as session:
        return {"items": [year_payload(info) for info in calendar_admin.list_years(session)]}


@blp.route("/calendar/years", methods=["POST"])
@blp.arguments(YearImportSchema)
@blp.response(201, YearSchema)
@documents(blp, 400, 401, 403, 422)
def import_year(body):
    """Import one year's holidays and adjusted workdays; open provisional due dates that
    fall in it are recomputed and listed in ``recomputed_tasks``."""
    document = {key: value for key, value in body.items() if value is not None}
    with database().write() as session:
        info = calendar_admin.import_year(session, current_actor(), json.dumps(document), now())
        return year_payload(info)
