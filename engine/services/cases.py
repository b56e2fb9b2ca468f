"""Cases: start, read, list, timeline, diagram, messages, cancel."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, lazyload, selectinload

import forms

from .. import audit
from ..departments import ENTERPRISE, department_title
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..models import Case, CaseState, Enterprise, Event, Task
from . import calendar_admin, deployments, journal, steps
from .actors import Actor

# What the form validator says of a file id that is not one of the case's attachments, and
# what a JSON start (which cannot carry files) says instead.
UNKNOWN_ATTACHMENT = forms.validation.message("attachment_unknown")
UPLOAD_HINT = (
    "发起前案件还没有附件：请用 POST /api/v1/cases/with-files 随申请上传文件，"
    "文件部件名为字段路径 (no attachment exists before the case starts: upload the files "
    "with POST /api/v1/cases/with-files, one part per file named by the field path)"
)


def _visible(actor: Actor, case: Case) -> bool:
    return actor.is_staff or (
        actor.role == "enterprise" and case.enterprise_id == actor.enterprise_id
    )


def get_case(session: Session, actor: Actor, ref: str | int) -> Case:
    """By id or case number; an enterprise gets 404 for another enterprise's case."""
    text = str(ref)
    if text.isascii() and text.isdigit() and len(text) <= 18:
        case = session.get(Case, int(text))
    else:
        case = session.scalars(select(Case).where(Case.case_number == text.upper())).first()
    if case is None or not _visible(actor, case):
        raise NotFound("案件不存在 (no such case)")
    return case


def validate_form_data(
    session: Session, form_key: str | None, data: dict, case_id: int | None
) -> None:
    """``data`` against the form; file fields must name attachments of the case (a case not
    started yet has none: its files come with :func:`validate_start_files`)."""
    attachment_ids: frozenset[str] = frozenset()
    if case_id is not None and form_key and forms.takes_files(form_key):
        from ..models import Attachment

        attachment_ids = frozenset(
            session.scalars(select(Attachment.id).where(Attachment.case_id == case_id))
        )
    _validate(form_key, data, attachment_ids, upload_hint=case_id is None)


def validate_start_files(
    form_key: str | None,
    data: dict,
    file_ids: Iterable[str],
    *,
    project_name: str | None = None,
    refused_files: dict[str, list[str]] | None = None,
    locale: str = "zh-CN",
) -> None:
    """A start form against the files posted with it (the ids they are about to be stored
    under): checked before the case row exists, so a refused start writes nothing.

    Every problem is raised at once: the project name (when given), the form's fields and
    ``refused_files`` (messages by field path of files refused by type or size; such a
    message replaces what the form says of the field the refused file left empty)."""
    errors = project_name_errors(project_name, locale) if project_name is not None else {}
    form_errors = _form_errors(form_key, data, frozenset(file_ids), False, locale)
    for path, texts in form_errors.items():
        known = errors.setdefault(path, [])
        known.extend(text for text in texts if text not in known)
    for path, texts in (refused_files or {}).items():
        errors[path] = list(texts)
    if errors:
        if form_errors or refused_files:
            raise InvalidInput("表单数据无效 (form data is invalid)", errors)
        raise InvalidInput("项目名称必填 (project name is required)", errors)


def _validate(
    form_key: str | None, data: dict, attachment_ids: frozenset[str], upload_hint: bool
) -> None:
    errors = _form_errors(form_key, data, attachment_ids, upload_hint, "zh-CN")
    if errors:
        raise InvalidInput("表单数据无效 (form data is invalid)", errors)


def _form_errors(
    form_key: str | None,
    data: dict,
    attachment_ids: frozenset[str],
    upload_hint: bool,
    locale: str,
) -> dict[str, list[str]]:
    if not isinstance(data, dict):
        raise InvalidInput(
            "data 必须是对象 (data must be an object)", {"data": ["必须是 JSON 对象"]}
        )
    if not form_key:
        return {}
    schema = forms.shared_form(form_key)
    errors = forms.validate(schema, data, attachment_ids=attachment_ids, locale=locale)
    if errors and upload_hint:
        errors = _with_upload_hint(schema, errors)
    return errors


def _with_upload_hint(schema: dict, errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """A start without its files: a file field's error says how to send the file."""
    hinted = {}
    for path, texts in errors.items():
        if UNKNOWN_ATTACHMENT in texts:
            texts = [UPLOAD_HINT if text == UNKNOWN_ATTACHMENT else text for text in texts]
        elif forms.attachment_field(schema, path):
            texts = [*texts, UPLOAD_HINT]
        hinted[path] = texts
    return hinted


def start_case(
    session: Session,
    actor: Actor,
    definition_key: str,
    project_name: str,
    data: dict,
    now: datetime,
    version: int | None = None,
    enterprise_id: int | None = None,
) -> Case:
    """Start a case: validate the start form, run until every path waits, write the first step.

    A case has no attachments before it starts, so a file field of the start form can hold
    no valid id here: files come with :func:`start_files.start_case_with_files`.
    """
    definition = deployments.get_definition(session, definition_key, version)
    enterprise_id = starting_enterprise(session, actor, enterprise_id, definition)
    validate_form_data(session, definition.start_form_key, data, None)
    case = open_case(session, actor, definition, project_name, now, enterprise_id)
    return begin(session, actor, case, data, now, validated=True)


def may_start(actor: Actor, definition) -> bool:
    """Whether ``actor`` may start cases of ``definition``: its start event's ``starters``
    (department codes, ``enterprise``) if it names any; admins always; analysts never."""
    if actor.role == "analyst":
        return False
    if actor.role == "admin" or definition.starters is None:
        return True
    if actor.role == "enterprise":
        return ENTERPRISE in definition.starters
    return actor.department in definition.starters


def starting_enterprise(
    session: Session, actor: Actor, enterprise_id: int | None, definition
) -> int | None:
    """For which enterprise ``actor`` starts a case of ``definition`` (403 if they may not).

    Who may start is the newest version's rule, whichever version is started: naming an
    older version (from before the rule) must not get round it."""
    policy = definition
    if actor.role != "admin":
        policy = deployments.latest_definition(session, definition.key) or definition
    if not may_start(actor, policy):
        if actor.role == "analyst":
            raise Forbidden("分析员不能发起案件 (analysts do not start cases)")
        raise Forbidden(_may_not_start(definition, policy.starters or []))
    if actor.role == "enterprise":
        if enterprise_id not in (None, actor.enterprise_id):
            raise Forbidden("企业只能为本企业发起案件 (enterprises start cases for themselves)")
        return actor.enterprise_id
    if enterprise_id is not None and session.get(Enterprise, enterprise_id) is None:
        raise InvalidInput("企业不存在 (no such enterprise)", {"enterprise_id": ["企业不存在"]})
    return enterprise_id


def _may_not_start(definition, starters: list[str]) -> str:
    """Refusal that says who may start instead (a department officer asks them)."""
    english_name = definition.name_en or definition.key
    zh = [department_title(code) or code for code in starters]
    en = [department_title(code, english=True) or code for code in starters]
    if not starters:
        return f"您不能发起“{definition.name}” (you may not start {english_name})"
    return (
        f"“{definition.name}”仅由{'、'.join(zh)}发起"
        f" ({english_name} is started by {', '.join(en)} only)"
    )


def project_name_errors(project_name: str, locale: str = "zh-CN") -> dict[str, list[str]]:
    if not project_name or not project_name.strip():
        return {"project_name": [forms.validation.message("required", locale)]}
    return {}


def check_project_name(project_name: str) -> None:
    if errors := project_name_errors(project_name):
        raise InvalidInput("项目名称必填 (project name is required)", errors)


def open_case(
    session: Session,
    actor: Actor,
    definition,
    project_name: str,
    now: datetime,
    enterprise_id: int | None,
) -> Case:
    """The numbered case row, with nothing run yet: files can be attached before it begins.

    The caller's transaction decides: if :func:`begin` refuses the start form, rolling back
    removes the row and its files together.
    """
    enterprise_id = starting_enterprise(session, actor, enterprise_id, definition)
    check_project_name(project_name)
    case = Case(
        case_number=f"TMP-{uuid.uuid4().hex[:20]}",
        definition_id=definition.id,
        spec_refs=steps.resolve_spec_refs(session, definition),
        enterprise_id=enterprise_id,
        project_name=project_name.strip()[:300],
        status="running",
        started_by=actor.username,
        started_at=now,
        lock_version=0,
        event_count=0,
        last_event_hash="",
        summary={"definition_hash": definition.content_hash},
    )
    session.add(case)
    session.flush()
    case.case_number = f"HZ-{now.year}-{case.id:06d}"
    case.definition = definition
    return case


def begin(
    session: Session, actor: Actor, case: Case, data: dict, now: datetime, validated: bool = False
) -> Case:
    """Run an opened case's start: the start form (file fields must be this case's
    attachments), the case.started event, the engine until every path waits."""
    definition = case.definition
    if not validated:
        validate_form_data(session, definition.start_form_key, data, case.id)
    ctx = steps.StepContext(session, case, actor.username, now)
    top, subprocess_specs = steps.specs_for(session, case)
    steps.record(
        ctx,
        "case.started",
        {
            "definition": {"key": definition.key, "version": definition.version},
            "project_name": case.project_name,
            "data": data,
        },
    )
    calendar_admin.keep_current(session)  # timer expressions count working days
    workflow = steps.runtime().start(
        top, subprocess_specs, {**data, "project_name": case.project_name}
    )
    steps.finish(ctx, workflow)
    return case


def list_cases(
    session: Session,
    actor: Actor,
    status: str | None = None,
    stage: str | None = None,
    q: str | None = None,
    page_size: int = 20,
    cursor: str | None = None,
) -> tuple[list[Case], str | None]:
    """Newest first, keyset-paginated (stable under inserts); never loads workflow state."""
    query = select(Case)
    if actor.role == "enterprise":
        query = query.where(Case.enterprise_id == actor.enterprise_id)
    if status:
        query = query.where(Case.status == status)
    if stage:
        query = query.where(Case.stage == stage)
    if q:
        query = query.where(Case.id.in_(matching_case_ids(q)))
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(Case.id < cursor_id(after[0]))
    # Every row names its procedure: one query for the page's definitions, not one per kind.
    query = query.options(selectinload(Case.definition))
    rows = list(session.scalars(query.order_by(Case.id.desc()).limit(page_size + 1)))
    next_cursor = encode_cursor([rows[page_size - 1].id]) if len(rows) > page_size else None
    return rows[:page_size], next_cursor


def matching_case_ids(q: str):
    """A subquery of the cases whose number, project, project code, permits or enterprise match."""
    like = f"%{q.strip()}%"
    return (
        select(Case.id)
        .outerjoin(Enterprise, Case.enterprise_id == Enterprise.id)
        .where(
            or_(
                Case.case_number.ilike(like),
                Case.project_name.ilike(like),
                Case.project_code.ilike(like),
                Case.permit_numbers.ilike(like),
                Enterprise.name.ilike(like),
            )
        )
    )


def encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def cursor_id(value) -> int:
    """A row id taken from a decoded cursor (clients can forge cursors)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53:
        raise InvalidInput("cursor 无效 (invalid cursor)", {"cursor": ["无效的分页游标"]})
    return value


def decode_cursor(cursor: str | None) -> list | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or not values:
            raise ValueError
        return values
    except (ValueError, json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput("cursor 无效 (invalid cursor)", {"cursor": ["无效的分页游标"]}) from None


def open_tasks(session: Session, case: Case) -> list[Task]:
    return list(
        session.scalars(
            select(Task)
            .where(Task.case_id == case.id, Task.status.in_(steps.OPEN))
            .order_by(Task.id)
        )
    )


def open_tasks_of_cases(session: Session, case_ids: Iterable[int]) -> dict[int, list[Task]]:
    """The open tasks of several cases in one query (a list page), by case id, oldest first."""
    ids = list(case_ids)
    by_case: dict[int, list[Task]] = {case_id: [] for case_id in ids}
    if not ids:
        return by_case
    rows = session.scalars(
        select(Task)
        .where(Task.case_id.in_(ids), Task.status.in_(steps.OPEN))
        .options(lazyload(Task.case))  # the page holds its cases already
        .order_by(Task.id)
    )
    for row in rows:
        by_case[row.case_id].append(row)
    return by_case


def stages_passed(session: Session, case_ids: Iterable[int]) -> dict[int, set[str]]:
    """Every stage each case has been in, from its ``case.stage_changed`` events (one query)."""
    ids = list(case_ids)
    passed: dict[int, set[str]] = {case_id: set() for case_id in ids}
    if not ids:
        return passed
    rows = session.execute(
        select(Event.case_id, Event.payload).where(
            Event.case_id.in_(ids), Event.type == "case.stage_changed"
        )
    )
    for case_id, payload in rows:
        passed[case_id].update(stages_of_change(payload))
    return passed


def stages_of_change(payload: dict | None) -> set[str]:
    """The stages a ``case.stage_changed`` event names (the one left and the one entered)."""
    payload = payload or {}
    return {stage for stage in (payload.get("from"), payload.get("to")) if stage}


def timeline(session: Session, actor: Actor, ref: str | int) -> list[Event]:
    case = get_case(session, actor, ref)
    return list(session.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.seq)))


def case_data(session: Session, case: Case) -> dict:
    """The case's data as of its last step (a snapshot; the workflow is not deserialized)."""
    row = journal.kept_state(session, case.id)  # the step that just ran saved it
    if row is not None and row.data is not None:
        return row.data
    snapshot = session.scalar(select(CaseState.data).where(CaseState.case_id == case.id))
    if snapshot is not None:
        return snapshot
    workflow = steps.load_workflow(session, case)
    return steps.json_safe(steps.runtime().data(workflow))


def diagram(session: Session, actor: Actor, ref: str | int) -> dict:
    case = get_case(session, actor, ref)
    workflow = steps.load_workflow(session, case)
    active, completed = steps.runtime().element_states(workflow)
    completed_elements = set((case.summary or {}).get("completed_elements", []))
    return {
        "xml": case.definition.file.content,
        "active": active,
        "completed": sorted((set(completed) | completed_elements) - set(active)),
    }


def send_message(
    session: Session, actor: Actor, ref: str | int, name: str, data: dict, now: datetime
) -> Case:
    """Correlate a BPMN message to the case; Conflict when no path waits for it."""
    case = get_case(session, actor, ref)
    if case.status != "running":
        raise Conflict("案件已结束 (the case is not running)")

    def deliver(ctx, workflow):
        if ctx.case.status != "running":  # read again under the case lock
            raise Conflict("案件已结束 (the case is not running)")
        if not steps.runtime().correlate(workflow, name, data or {}):
            raise Conflict(
                f"案件没有等待消息 '{name}' (no path of the case waits for this message)"
            )
        steps.record(ctx, "message.received", {"name": name, "data": data or {}})

    case, _ = steps.act(session, case.id, actor.username, now, deliver)
    return case


def cancel_case(session: Session, actor: Actor, ref: str | int, reason: str, now: datetime) -> Case:
    if actor.role != "admin":
        raise Forbidden("只有管理员可以撤销案件 (admins only)")
    if not reason or not reason.strip():
        raise InvalidInput("撤销原因必填 (a reason is required)", {"reason": ["此项为必填项"]})
    case = steps.lock_case(session, get_case(session, actor, ref).id)
    if case.status != "running":
        raise Conflict("案件已结束 (the case is not running)")
    ctx = steps.StepContext(session, case, actor.username, now)
    steps.cancel_open_tasks(ctx)
    case.status = "cancelled"
    case.completed_at = now
    steps.record(ctx, "case.cancelled", {"reason": reason.strip()})
    case.lock_version += 1
    return case


def verify_audit(session: Session, ref: str | int) -> tuple[int, int | None]:
    """(events checked, seq of the first broken event or None)."""
    from .actors import SYSTEM

    case = get_case(session, SYSTEM, ref)
    events = list(
        session.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.seq))
    )
    broken = audit.first_broken(events)
    if broken is None and events and events[-1].hash != case.last_event_hash:
        broken = events[-1].seq
    return len(events), broken
