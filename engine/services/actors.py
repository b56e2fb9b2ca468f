"""Who is acting: the authenticated user reduced to what authorization needs."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("officer", "analyst", "enterprise", "admin")


@dataclass(frozen=True)
class Actor:
    username: str
    role: str
    department: str | None = None
    enterprise_id: int | None = None
    user_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in ("officer", "analyst", "admin")

    @classmethod
    def from_user(cls, user) -> Actor:
        return cls(user.username, user.role, user.department_code, user.enterprise_id, user.id)


SYSTEM = Actor("system", "admin")
