"""Case pages: the enterprise's "my cases" and case tracker (also open to staff)."""

from __future__ import annotations

from flask import render_template, request

from .. import http_files
from ..services import attachments, cases, users
from . import bp, case_overview, file_labels
from .context import database
from .session_auth import current_actor

PAGE_SIZE = 20


@bp.route("/cases", endpoint="cases")
def cases_page():
    actor = current_actor()
    q = (request.args.get("q") or "").strip() or None
    with database().read() as session:
        rows, next_cursor = cases.list_cases(
            session, actor, q=q, page_size=PAGE_SIZE, cursor=request.args.get("cursor")
        )
        return render_template(
            "cases.html",
            cases=rows,
            overviews=case_overview.for_page(session, rows),
            next_cursor=next_cursor,
            q=q or "",
        )


@bp.route("/cases/<ref:ref>")
def case_page(ref: str):
    actor = current_actor()
    with database().read() as session:
        case = cases.get_case(session, actor, ref)
        open_tasks = cases.open_tasks(session, case)
        mine = [
            task
            for task in open_tasks
            if actor.role == "enterprise" and task.department == "enterprise"
        ]
        files = attachments.case_attachments(session, case.id)
        events = cases.timeline(session, actor, case.id)
        return render_template(
            "case.html",
            case=case,
            overview=case_overview.for_case(case, open_tasks, events),
            open_tasks=open_tasks,
            my_tasks=mine,
            events=events,
            actor_names=users.display_names(
                session,
                [event.actor for event in events]
                + [file.uploaded_by for file in files]
                + [task.assignee for task in open_tasks],
            ),
            files=files,
            file_labels=file_labels.labels(session, case, events, (f.id for f in files)),
        )


@bp.route("/cases/<ref:ref>/diagram.json")
def case_diagram(ref: str):
    with database().read() as session:
        return cases.diagram(session, current_actor(), ref)


@bp.route("/cases/<ref:ref>/attachments/<attachment_id>")
def case_attachment(ref: str, attachment_id: str):
    with database().read() as session:
        row = attachments.get_attachment(session, current_actor(), ref, attachment_id)
        return http_files.download(row)
