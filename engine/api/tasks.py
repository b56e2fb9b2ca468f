"""The inbox: list, read, claim, unclaim, assign, complete."""

from __future__ import annotations

from flask_smorest import Blueprint

from .. import sla
from ..models import Task
from ..services import tasks
from .cases import case_payload
from .context import current_actor, database, now
from .errors import documents
from .schemas.tasks import (
    AssignSchema,
    CompletedSchema,
    CompleteSchema,
    TaskListArgsSchema,
    TaskPageSchema,
    TaskSchema,
)

blp = Blueprint("tasks", __name__, url_prefix="/api/v1", description="待办 Tasks (the inbox)")

TASK_ID = "<int(max=9007199254740991):task_id>"


def task_summary(task: Task) -> dict:
    case = task.case
    return {
        "id": task.id,
        "case": {"id": case.id, "case_number": case.case_number, "project_name": case.project_name},
        "title": task.title,
        "title_en": task.title_en,
        "element_id": task.element_id,
        "department": task.department,
        "assignee": task.assignee,
        "status": task.status,
        "form_key": task.form_key,
        "created_at": task.created_at,
        "due_at": task.due_at,
        "due_provisional": task.due_provisional,
        "sla_working_days": task.sla_working_days,
        "legal_basis": task.legal_basis,
        "legal_basis_en": task.legal_basis_en,
        "completed_at": task.completed_at,
        "completed_by": task.completed_by,
        "sla_status": sla.sla_status(task, now()),
        "paused": task.paused_since is not None,
        "paused_seconds": task.paused_seconds or 0,
    }


def task_payload(task: Task) -> dict:
    return {**task_summary(task), "form": tasks.task_form(task), "data": task.data or {}}


@blp.route("/tasks")
@blp.arguments(TaskListArgsSchema, location="query")
@blp.response(200, TaskPageSchema)
@documents(blp, 401, 404, 422)
def list_tasks(args):
    """Open tasks by due date; an officer's inbox defaults to its own department."""
    with database().read() as session:
        rows, next_cursor = tasks.list_tasks(session, current_actor(), **args)
        return {"items": [task_summary(task) for task in rows], "next_cursor": next_cursor}


@blp.route(f"/tasks/{TASK_ID}")
@blp.response(200, TaskSchema)
@documents(blp, 401, 404)
def get_task(task_id):
    """A task with its form (JSON Schema) and, once completed, its data."""
    with database().read() as session:
        return task_payload(tasks.get_task(session, current_actor(), task_id))


@blp.route(f"/tasks/{TASK_ID}/claim", methods=["POST"])
@blp.response(200, TaskSchema)
@documents(blp, 401, 403, 404, 409)
def claim(task_id):
    """Take the task; 409 when someone else holds it."""
    with database().write() as session:
        return task_payload(tasks.claim(session, current_actor(), task_id))


@blp.route(f"/tasks/{TASK_ID}/unclaim", methods=["POST"])
@blp.response(200, TaskSchema)
@documents(blp, 401, 403, 404, 409)
def unclaim(task_id):
    """Give the task back to the department's queue."""
    with database().write() as session:
        task = tasks.unclaim(session, current_actor(), task_id)
        session.flush()
        return task_payload(task)


@blp.route(f"/tasks/{TASK_ID}/assign", methods=["POST"])
@blp.arguments(AssignSchema)
@blp.response(200, TaskSchema)
@documents(blp, 400, 401, 403, 404, 409, 422)
def assign(body, task_id):
    """Assign the task to an officer of its department."""
    with database().write() as session:
        task = tasks.assign(session, current_actor(), task_id, body["user"])
        session.flush()
        return task_payload(task)


@blp.route(f"/tasks/{TASK_ID}/complete", methods=["POST"])
@blp.arguments(CompleteSchema)
@blp.response(200, CompletedSchema)
@documents(blp, 400, 401, 403, 404, 409, 422)
def complete(body, task_id):
    """Complete the task with its form data; returns the case as it now stands."""
    with database().write() as session:
        case = tasks.complete(session, current_actor(), task_id, body["data"], now())
        return {"case": case_payload(session, case)}
