"""Cases: start, list, read, timeline, diagram, messages, cancel (files: case_attachments)."""

from __future__ import annotations

import json

from flask import request
from flask_smorest import Blueprint, abort
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..http_files import several_files_allowed
from ..models import Case, Task
from ..services import cases, start_files
from ..services.steps import OPEN
from .context import current_actor, database, now, settings
from .errors import documents
from .schemas.cases import (
    START_WITH_FILES_BODY,
    CancelSchema,
    CaseListArgsSchema,
    CasePageSchema,
    CaseSchema,
    DiagramSchema,
    MessageSchema,
    StartCaseSchema,
    StartWithFilesFormSchema,
    TimelineSchema,
)

blp = Blueprint(
    "cases", __name__, url_prefix="/api/v1", description="案件 Cases (process instances)"
)


OPEN_TASK_FIELDS = (
    "id",
    "title",
    "title_en",
    "department",
    "assignee",
    "status",
    "due_at",
    "legal_basis",
    "legal_basis_en",
)


def _open_task_payload(task: Task) -> dict:
    return {name: getattr(task, name) for name in OPEN_TASK_FIELDS}


def _open_tasks_by_case(session: Session, case_ids: list[int]) -> dict[int, list[dict]]:
    """For a page of cases, their open tasks in one query."""
    grouped: dict[int, list[dict]] = {case_id: [] for case_id in case_ids}
    if case_ids:
        rows = session.scalars(
            select(Task).where(Task.case_id.in_(case_ids), Task.status.in_(OPEN)).order_by(Task.id)
        )
        for task in rows:
            grouped[task.case_id].append(_open_task_payload(task))
    return grouped


def case_summary(case: Case, open_tasks: list[dict]) -> dict:
    enterprise = case.enterprise
    return {
        "id": case.id,
        "case_number": case.case_number,
        "definition": {
            "key": case.definition.key,
            "version": case.definition.version,
            "name": case.definition.name,
            "name_en": case.definition.name_en,
        },
        "enterprise": {"id": enterprise.id, "name": enterprise.name} if enterprise else None,
        "project_name": case.project_name,
        "project_code": case.project_code,
        "status": case.status,
        "stage": case.stage,
        "started_at": case.started_at,
        "completed_at": case.completed_at,
        "due_at": case.due_at,
        "open_tasks": open_tasks,
        "waiting_for": (
            list((case.summary or {}).get("waiting_for") or [])
            if case.status == "running" and not open_tasks
            else []
        ),
    }


def case_payload(session: Session, case: Case) -> dict:
    """The full case: summary, open tasks and the workflow data."""
    session.flush()
    # After a step, Case.open_tasks holds the step's own rows; otherwise it is one query.
    payload = case_summary(case, [_open_task_payload(task) for task in case.open_tasks])
    payload["data"] = cases.case_data(session, case)
    return payload


@blp.route("/cases", methods=["POST"])
@blp.arguments(StartCaseSchema)
@blp.response(201, CaseSchema)
@documents(blp, 400, 401, 403, 404, 422)
def start_case(body):
    """Start a case; `data` is validated against the start form."""
    with database().write() as session:
        case = cases.start_case(
            session,
            current_actor(),
            body["definition_key"],
            body["project_name"],
            body["data"],
            now(),
            version=body["version"],
            enterprise_id=body["enterprise_id"],
        )
        return case_payload(session, case)


def _start_body(text: str) -> dict:
    """The `case` part, read and validated as the POST /cases body is."""
    try:
        body = json.loads(text)
    except ValueError:
        abort(400, messages={"form": {"case": ["不是有效的 JSON (not valid JSON)"]}})
    try:
        return StartCaseSchema().load(body)
    except ValidationError as exc:
        abort(422, messages={"json": exc.messages})


@blp.route("/cases/with-files", methods=["POST"])
@several_files_allowed()
@blp.arguments(StartWithFilesFormSchema, location="form", content_type="multipart/form-data")
@blp.doc(requestBody={"content": {"multipart/form-data": {"schema": START_WITH_FILES_BODY}}})
@blp.response(201, CaseSchema)
@documents(blp, 400, 401, 403, 404, 413, 422)
def start_case_with_files(form):
    """Start a case with the files of its start form, in one step.

    Part `case` is the POST /cases body as JSON; every other part is a file for the start-form
    field named by the part name (`survey_report_file`, `rect_problems.0.photos`). The files
    become the case's attachments and their ids are written into `data` at those paths
    (appended for an array field) before the start form is validated. If anything is
    refused, neither the case nor any file is kept.
    """
    body = _start_body(form["case"])
    uploads = [
        (path, start_files.UploadedFile(upload.filename or "", upload.mimetype, upload.read()))
        for path, storages in request.files.lists()
        for upload in storages
        if upload.filename  # an empty file input (no file chosen) is no file, as in the web
    ]
    with database().write() as session:
        case = start_files.start_case_with_files(
            session,
            current_actor(),
            body["definition_key"],
            body["project_name"],
            body["data"],
            uploads,
            now(),
            version=body["version"],
            enterprise_id=body["enterprise_id"],
            max_bytes=settings().max_upload_bytes,
        )
        return case_payload(session, case)


@blp.route("/cases")
@blp.arguments(CaseListArgsSchema, location="query")
@blp.response(200, CasePageSchema)
@documents(blp, 401, 422)
def list_cases(args):
    """Newest first; an enterprise sees only its own cases."""
    with database().read() as session:
        rows, next_cursor = cases.list_cases(
            session,
            current_actor(),
            status=args["status"],
            stage=args["stage"],
            q=args["q"],
            page_size=args["page_size"],
            cursor=args["cursor"],
        )
        open_tasks = _open_tasks_by_case(session, [case.id for case in rows])
        return {
            "items": [case_summary(case, open_tasks[case.id]) for case in rows],
            "next_cursor": next_cursor,
        }


@blp.route("/cases/<ref:ref>")
@blp.response(200, CaseSchema)
@documents(blp, 401, 404)
def get_case(ref):
    """A case by id or case number (HZ-2026-000123)."""
    with database().read() as session:
        return case_payload(session, cases.get_case(session, current_actor(), ref))


@blp.route("/cases/<ref:ref>/timeline")
@blp.response(200, TimelineSchema)
@documents(blp, 401, 404)
def timeline(ref):
    """The audit trail, oldest first."""
    with database().read() as session:
        events = cases.timeline(session, current_actor(), ref)
        items = [
            {
                "seq": e.seq,
                "type": e.type,
                "actor": e.actor,
                "at": e.at,
                "payload": e.payload,
                "hash": e.hash,
            }
            for e in events
        ]
    return {"items": items, "next_cursor": None}


@blp.route("/cases/<ref:ref>/diagram")
@blp.response(200, DiagramSchema)
@documents(blp, 401, 404)
def diagram(ref):
    """The BPMN XML with the active and completed element ids."""
    with database().read() as session:
        return cases.diagram(session, current_actor(), ref)


@blp.route("/cases/<ref:ref>/messages", methods=["POST"])
@blp.arguments(MessageSchema)
@blp.response(202, CaseSchema)
@documents(blp, 400, 401, 403, 404, 409, 422)
def send_message(body, ref):
    """Deliver a BPMN message to the case; 409 when no path waits for it."""
    with database().write() as session:
        case = cases.send_message(session, current_actor(), ref, body["name"], body["data"], now())
        return case_payload(session, case)


@blp.route("/cases/<ref:ref>/cancel", methods=["POST"])
@blp.arguments(CancelSchema)
@blp.response(200, CaseSchema)
@documents(blp, 400, 401, 403, 404, 409, 422)
def cancel(body, ref):
    """Cancel a running case (admins)."""
    with database().write() as session:
        case = cases.cancel_case(session, current_actor(), ref, body["reason"], now())
        return case_payload(session, case)
