"""The bureau's departments (codes are fixed) and the pseudo-department of the case's enterprise."""

from __future__ import annotations

ENTERPRISE = "enterprise"

DEPARTMENTS: dict[str, tuple[str, str]] = {
    "service_center": ("综合服务窗口/代办", "One-stop service window"),
    "housing": ("住建局（施工许可/建管）", "Permits and construction management"),
    "quality_safety": ("质量安全监督站", "Quality and safety supervision"),
    "fire": ("消防审验", "Fire design review and acceptance"),
    "civil_defense": ("人防", "Civil air defense"),
    "planning": ("规划和自然资源", "Planning and natural resources"),
    "archives": ("城建档案馆", "Urban construction archives"),
    "roads": ("道路占用挖掘", "Road occupation and excavation"),
    "traffic_police": ("交警", "Traffic police"),
    "utilities": ("水电气", "Water, power and gas"),
    "task_force": ("项目专班", "Project task force"),
    "leadership": ("局领导", "Bureau leadership"),
}


def is_assignable(code: str) -> bool:
    """A value a lane or `department` property may name."""
    return code == ENTERPRISE or code in DEPARTMENTS


def department_title(code: object, english: bool = False) -> str | None:
    """The name of a department code (or of ``enterprise``) in one language; None otherwise."""
    if code == ENTERPRISE:
        return "Enterprise" if english else "企业"
    names = DEPARTMENTS.get(code) if isinstance(code, str) else None
    return (names[1] if english else names[0]) if names else None
