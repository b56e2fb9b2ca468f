"""Demo data for `make run` / `pazhou demo`: departments, users, enterprises, processes, cases.

Every demo account has the password DEMO_PASSWORD: demo only, never on a real server.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import forms

from ..departments import DEPARTMENTS
from ..errors import PazhouError
from ..models import Enterprise, User
from . import attachments, cases, deployments, tasks, users
from .actors import SYSTEM, Actor

DEMO_PASSWORD = "pazhou-demo"
# First 17 characters of each USCC; the check character is computed (GB 32100).
ENTERPRISES = (
    ("enterprise.a", "广州琶洲数字科技有限公司", "91440105MA5CKL3A2"),
    ("enterprise.b", "海珠建设发展有限公司", "91440105MA9UQ8PR1"),
)
# (enterprise user, project, preferred process, how many tasks to complete): different stages.
PROJECTS = (
    ("enterprise.a", "琶洲数字经济总部大楼", "project_onboarding", 2),
    ("enterprise.b", "海珠湾滨江住宅一期", "construction_permit_phased", 1),
    ("enterprise.a", "琶洲会展配套商业综合体", "fire_design_review", 1),
    ("enterprise.b", "海珠创新园地下人防工程", "civil_defense_review", 0),
)
# The smallest file add_attachment accepts as a PDF: enough for `format: attachment` fields.
DEMO_PDF = b"%PDF-1.4\n% Pazhou Flow demo attachment\n%%EOF\n"
MAX_BPMN_BYTES = 5 * 1024 * 1024


def process_files() -> list[tuple[str, bytes]]:
    """Every .bpmn and .dmn shipped in the `processes` package."""
    import processes

    folder = Path(processes.__file__).parent
    paths = sorted(folder.glob("*.bpmn")) + sorted(folder.glob("*.dmn"))
    return [(path.name, path.read_bytes()) for path in paths]


def deploy_processes(session: Session, now: datetime) -> dict:
    """Deploy the shipped processes; an invalid bundle is reported, never raised."""
    files = process_files()
    if not files:
        return {"deployed": [], "problems": []}
    try:
        with session.begin_nested():
            _, definitions = deployments.deploy_bundle(session, SYSTEM, files, now, MAX_BPMN_BYTES)
    except PazhouError as exc:
        problems = getattr(exc, "problems", None) or [{"message": exc.detail}]
        return {"deployed": [], "problems": problems}
    return {"deployed": [f"{d.key}:{d.version}" for d in definitions], "problems": []}


# Values a demo form field of this name gets, whatever its schema says.
DEMO_VALUES = {
    "site_address": "广州市海珠区琶洲街道阅江西路 218 号",
    "contact_name": "陈工",
    "contact_phone": "13800138000",
    "project_code": "2026-440105-47-01-000001",
}


def example_value(schema: dict, name: str = "", context: dict | None = None):
    """A plausible value for a JSON Schema, enough to pass a demo form."""
    context = context or {}
    if name in context and not isinstance(context[name], dict):
        return context[name]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    choices = schema.get("oneOf") or schema.get("anyOf")
    if choices and all("const" in choice for choice in choices):
        return choices[0]["const"]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object":
        required = schema.get("required", [])
        return {
            key: example_value(sub, key, context)
            for key, sub in schema.get("properties", {}).items()
            if key in required
        }
    if kind == "array":
        items = [
            example_value(schema.get("items", {}), name, context)
            for _ in range(schema.get("minItems", 0))
        ]
        if schema.get("uniqueItems"):
            items = [
                f"{item}{i + 1}" if isinstance(item, str) else item for i, item in enumerate(items)
            ]
        return items
    if kind == "boolean":
        return False  # fewer conditional fields to fill
    if kind in ("integer", "number"):
        return max(schema.get("minimum", 1), 1)
    fmt = schema.get("format")
    by_format = {
        "uscc": context.get(
            "uscc", "91440105MA5CKL3A2" + forms.uscc_check_char("91440105MA5CKL3A2")
        ),
        "project-code": DEMO_VALUES["project_code"],
        "cn-mobile": DEMO_VALUES["contact_phone"],
        "date": context.get("today", "2026-03-02"),
        "date-time": context.get("now", "2026-03-02T09:00:00+08:00"),
        "email": "demo@example.com",
    }
    if fmt == "attachment":
        return context.get("attachment_id", "demo")
    if fmt in by_format:
        return by_format[fmt]
    text = DEMO_VALUES.get(name) or "演示数据"
    min_length = schema.get("minLength", 0)
    return text if len(text) >= min_length else text + "演" * (min_length - len(text))


def _form_data(form: dict | None, context: dict) -> dict:
    """Example data for a form, then any conditionally required fields the validator names."""
    if not form:
        return {}
    schema = form["schema"]
    data = example_value(schema, "", context)
    properties = schema.get("properties", {})
    for _ in range(3):
        missing = [
            key for key in forms.validate(schema, data) if key in properties and key not in data
        ]
        if not missing:
            break
        for key in missing:
            data[key] = example_value(properties[key], key, context)
    return data


def _advance(session: Session, case, steps: int, now: datetime) -> None:
    """Complete the first open tasks of a case as an admin would; stop at the first that fails."""
    attachment = attachments.add_attachment(
        session, SYSTEM, case.id, "演示材料.pdf", "application/pdf", DEMO_PDF, now
    )
    context = {
        "now": now.isoformat(),
        "today": now.date().isoformat(),
        "attachment_id": attachment.id,
    }
    for _ in range(steps):
        open_tasks = cases.open_tasks(session, case)
        if not open_tasks or case.status != "running":
            return
        task = open_tasks[0]
        try:
            with session.begin_nested():
                case = tasks.complete(
                    session, SYSTEM, task.id, _form_data(tasks.task_form(task), context), now
                )
        except (PazhouError, forms.FormError):
            return


def start_demo_cases(
    session: Session, now: datetime, enterprises: dict[str, Enterprise]
) -> list[str]:
    """A few cases at different stages; a process that cannot start is skipped quietly."""
    definitions = {d.key: d for d in deployments.list_definitions(session)}
    started = []
    for username, project_name, key, steps in PROJECTS:
        definition = definitions.get(key)
        if definition is None:
            continue
        enterprise = enterprises[username]
        actor = Actor(username, "enterprise", enterprise_id=enterprise.id)
        context = {
            "uscc": enterprise.uscc,
            "project_name": project_name,
            "owner_name": enterprise.name,
            "now": now.isoformat(),
            "today": now.date().isoformat(),
        }
        try:
            with session.begin_nested():
                data = _form_data(deployments.start_form(definition), context)
                case = cases.start_case(session, actor, definition.key, project_name, data, now)
        except (PazhouError, forms.FormError):
            continue
        _advance(session, case, steps, now)
        started.append(f"{case.case_number} {definition.key} {case.stage or ''}".strip())
    return started


def seed(session: Session, now: datetime) -> dict:
    """Seed an empty database (no users yet); a database with users is left alone."""
    if session.scalar(select(func.count()).select_from(User)):
        return {"seeded": False}
    users.seed_departments(session)
    users.create_user(session, "admin", DEMO_PASSWORD, "admin", display_name="系统管理员", now=now)
    users.create_user(
        session, "analyst", DEMO_PASSWORD, "analyst", display_name="流程分析员", now=now
    )
    for code, (name_zh, _) in DEPARTMENTS.items():
        users.create_user(
            session,
            f"{code}.officer",
            DEMO_PASSWORD,
            "officer",
            code,
            display_name=f"{name_zh}办事员",
            now=now,
        )
    enterprises: dict[str, Enterprise] = {}
    for username, name, first17 in ENTERPRISES:
        enterprise = users.create_enterprise(
            session, name, first17 + forms.uscc_check_char(first17), now=now
        )
        users.create_user(
            session,
            username,
            DEMO_PASSWORD,
            "enterprise",
            enterprise_id=enterprise.id,
            display_name=name,
            now=now,
        )
        enterprises[username] = enterprise
    deployment = deploy_processes(session, now)
    started = start_demo_cases(session, now, enterprises) if deployment["deployed"] else []
    return {
        "seeded": True,
        "password": DEMO_PASSWORD,
        "users": [
            "admin",
            "analyst",
            *(f"{code}.officer" for code in DEPARTMENTS),
            *(e[0] for e in ENTERPRISES),
        ],
        "enterprises": [e.name for e in enterprises.values()],
        "deployed": deployment["deployed"],
        "problems": deployment["problems"],
        "cases": started,
    }
