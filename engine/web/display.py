"""Template filters: local times, SLA badges, stage, department and status names."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import request

from ..departments import DEPARTMENTS, ENTERPRISE
from .context import now
from .i18n import STAGES, gettext, is_en, stage_name

LOCAL = ZoneInfo("Asia/Shanghai")

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


def status_name(status: str | None) -> str:
    return gettext(STATUS_NAMES.get(status or "", status or "—"))


def role_name(role: str | None) -> str:
    return gettext(ROLE_NAMES.get(role or "", role or "—"))


def sla(task) -> dict:
    """Badge for a task's due date: red at or past the limit, orange from 80 %, yellow from 50 %.

    The 80 % warning and the 100 % breach are the bureau's SLA rule (DOMAIN.md); yellow only
    tells the officer that half the time is gone.
    """
    if task.due_at is None or task.status not in ("ready", "claimed"):
        return {"level": "none", "text": gettext("无法定时限") if task.due_at is None else ""}
    current = now()
    total = (task.due_at - task.created_at).total_seconds() or 1
    used = (current - task.created_at).total_seconds() / total
    days_left = (task.due_at - current).total_seconds() / 86400
    if used >= 1:
        level, text = "red", gettext("已超期")
    else:
        level = "orange" if used >= 0.8 else "yellow" if used >= 0.5 else "green"
        text = f"{gettext('剩余')} {max(days_left, 0):.0f} {gettext('天')}"
    return {"level": level, "text": text}


def stage_progress(stage: str | None) -> list[dict]:
    """The nine stages an enterprise sees, each done / current / todo."""
    index = STAGES.index(stage) if stage in STAGES else -1
    result = []
    for position, code in enumerate(STAGES):
        state = "done" if position < index else "current" if position == index else "todo"
        if stage == "completed" and code == "completed":
            state = "done"
        result.append({"code": code, "name": stage_name(code), "state": state})
    return result


def init_filters(app) -> None:
    app.jinja_env.filters.update(
        local_time=local_time,
        local_date=local_date,
        department_name=department_name,
        status_name=status_name,
        role_name=role_name,
        stage_name=stage_name,
    )
    app.jinja_env.globals.update(
        sla=sla, stage_progress=stage_progress, is_en=is_en, lang_url=lang_url
    )


def lang_url(lang: str) -> str:
    """The current page in another language."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [lang]
    return f"{request.path}?{urlencode(args, doseq=True)}"
