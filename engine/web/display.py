"""Template filters: local times, SLA badges, stage, department, status and procedure names, and
legal bases, in the page's language where the BPMN gives both."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlencode

from flask import g, request

import forms

from .. import calendar as working_calendar
from .. import sla as sla_rules
from ..departments import DEPARTMENTS, ENTERPRISE, department_title, is_assignable
from ..services.actors import SYSTEM
from .context import now
from .i18n import DMN_JS_ZH, STAGES, gettext, is_en, ngettext, one_language, stage_name

LOCAL = working_calendar.BUREAU_TZ

STATUS_NAMES = {
    "ready": "待认领",
    "claimed": "已认领",
    "completed": "已办结",
    "cancelled": "已取消",
    "running": "运行中",
}
ROLE_NAMES = {"officer": "办事员", "analyst": "分析员", "enterprise": "企业用户", "admin": "管理员"}


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return "—"
    return value.astimezone(LOCAL).strftime(fmt)


def local_date(value: datetime | None) -> str:
    return local_time(value, "%Y-%m-%d")


def department_name(code: str | None) -> str:
    if not code:
        return "—"
    if code == ENTERPRISE:
        return gettext("企业办理")
    zh, en = DEPARTMENTS.get(code, (code, code))
    return en if is_en() else zh


def in_page_language(zh: str | None, en: str | None) -> str:
    """A name given in Chinese and maybe in English (a BPMN element's ``name_en``): the
    English one on English pages when there is one, else the Chinese one."""
    return en if en and is_en() else (zh or "")


def task_title(task) -> str:
    """A task's title in the page's language (its BPMN element's ``name_en`` on English
    pages). ``task`` is a task row or an event's payload."""
    if isinstance(task, Mapping):
        return in_page_language(task.get("title"), task.get("title_en"))
    return in_page_language(task.title, task.title_en)


def legal_basis(task) -> str:
    """A task's legal basis in the page's language (its BPMN element's ``legal_basis_en`` on
    English pages, else the Chinese one); empty when it has none."""
    return in_page_language(task.legal_basis, task.legal_basis_en)


def definition_name(definition) -> str:
    """A procedure's name in the page's language (the process's ``name_en`` on English pages)."""
    return in_page_language(definition.name, definition.name_en)


def form_title(schema: Mapping) -> str:
    """A form's title in the page's language (``x-title-en`` on English pages)."""
    return forms.form_title(schema, "en" if is_en() else "zh-CN")


def status_name(status: str | None) -> str:
    return gettext(STATUS_NAMES.get(status or "", status or "—"))


def task_state(task) -> str:
    """A task's status as its reader should take it. An open task of the enterprise
    pseudo-department is not waiting to be claimed (enterprises do not claim): it waits for
    the enterprise, which reads "待您办理", and staff "待企业办理"."""
    if task.department == ENTERPRISE and task.status in ("ready", "claimed"):
        user = g.get("web_user") or {}
        return gettext("待您办理") if user.get("role") == "enterprise" else gettext("待企业办理")
    return status_name(task.status)


def person(username: str | None, names: dict[str, str] | None = None) -> str:
    """Who acted, as pages name people: the display name (``names`` from
    users.display_names), 系统 for the engine itself, else the login name."""
    if not username:
        return "—"
    if names and username in names:
        return names[username]
    if username == SYSTEM.username:
        return gettext("系统")
    return username


def list_separator() -> str:
    return ", " if is_en() else "、"


def role_name(role: str | None) -> str:
    return gettext(ROLE_NAMES.get(role or "", role or "—"))


def sla(task) -> dict:
    """Badge for a task's legal deadline, from the engine's own SLA rule (engine.sla).

    Red once breached, orange from the 80 % warning, yellow when half the working days are
    gone, green before; "left" counts working days, and a paused clock says so.
    """
    if task.due_at is None or task.status not in ("ready", "claimed"):
        return {"level": "none", "text": gettext("无法定时限") if task.due_at is None else ""}
    current = now()
    status = sla_rules.sla_status(task, current)
    if getattr(task, "paused_since", None) is not None:
        return {"level": "paused", "text": gettext("等待企业，计时暂停")}
    left = working_calendar.get_default_calendar().working_days_between(current, task.due_at)
    if status == sla_rules.BREACHED:
        return {"level": "red", "text": gettext("已超期")}
    if status == sla_rules.WARNING:
        level = "orange"
    elif task.sla_working_days and max(left, 0) * 2 <= task.sla_working_days:
        level = "yellow"
    else:
        level = "green"
    days = max(left, 0)
    return {
        "level": level,
        "text": ngettext("剩余 %(num)s 个工作日", "剩余 %(num)s 个工作日", days),
    }


def stage_progress(stage: str | None, passed=frozenset()) -> list[dict]:
    """The nine stages an enterprise sees: done / current / skipped / todo.

    A stage is done only if the case has been in it (``passed``: the stages its
    case.stage_changed events name); an earlier stage the case never went through is
    "skipped", not done. A case that never had a stage gets no bar (an empty list): the page
    shows its current step instead.
    """
    passed = set(passed or ()) | ({stage} if stage else set())
    if not passed:
        return []
    index = STAGES.index(stage) if stage in STAGES else -1
    result = []
    for position, code in enumerate(STAGES):
        if code == stage and code != "completed":
            state = "current"
        elif code in passed:
            state = "done"
        elif position < index:
            state = "skipped"
        else:
            state = "todo"
        result.append({"code": code, "name": stage_name(code), "state": state})
    return result


# Every event type the journal writes (engine.services.journal, webhooks.EVENT_TYPES).
EVENT_NAMES = {
    "case.started": "案件发起",
    "case.stage_changed": "阶段变更",
    "case.completed": "案件办结",
    "case.cancelled": "案件撤销",
    "task.created": "任务到达",
    "task.completed": "任务办结",
    "task.cancelled": "任务取消",
    "task.sla_warning": "办理时限预警",
    "task.sla_breached": "办理超期",
    "task.sla_paused": "等待企业，计时暂停",
    "task.sla_resumed": "计时恢复",
    "task.due_recomputed": "办理时限重新计算",
    "timer.fired": "定时节点触发",
    "message.received": "收到外部消息",
    "rectification.issued": "下发整改通知",
}


# Every message a process waits for (the message names in processes/*.bpmn, and the
# enterprise's supplement the process README names), as the enterprise reads it.
MESSAGE_NAMES = {
    "bim_model_accepted": "CIM平台 BIM 模型审查",
    "civil_defense_fee_paid": "人防易地建设费缴纳",
    "construction_started": "企业报告开工",
    "expert_review_returned": "专家评审意见",
    "supplement_submitted": "企业补正材料",
}


def message_name(name: str | None) -> str:
    """A readable name of a BPMN message; an unknown message shows as itself."""
    return gettext(MESSAGE_NAMES.get(name or "", name or "—"))


def lane_names() -> dict[str, str]:
    """Department code -> name in the page's language, for the lane labels of diagrams."""
    return {code: department_title(code, is_en()) for code in (*DEPARTMENTS, ENTERPRISE)}


def event_name(event_type: str | None) -> str:
    """A readable name of an event type; an unknown type shows as itself."""
    return gettext(EVENT_NAMES.get(event_type or "", event_type or "—"))


def init_filters(app) -> None:
    app.jinja_env.filters.update(
        local_time=local_time,
        local_date=local_date,
        department_name=department_name,
        status_name=status_name,
        role_name=role_name,
        stage_name=stage_name,
        event_name=event_name,
        message_name=message_name,
        one_language=one_language,
        task_title=task_title,
        legal_basis=legal_basis,
        definition_name=definition_name,
        form_title=form_title,
    )
    app.jinja_env.tests["department_code"] = is_assignable
    app.jinja_env.globals.update(
        sla=sla,
        stage_progress=stage_progress,
        is_en=is_en,
        in_page_language=in_page_language,
        lang_url=lang_url,
        DMN_JS_ZH=DMN_JS_ZH,
        lane_names=lane_names,
        task_state=task_state,
        person=person,
        list_separator=list_separator,
    )


def lang_url(lang: str) -> str:
    """The current page in another language."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [lang]
    return f"{request.path}?{urlencode(args, doseq=True)}"
