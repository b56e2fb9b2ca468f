"""Users, enterprises, departments and bearer tokens (only the token's sha256 is stored)."""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import forms

from ..departments import DEPARTMENTS
from ..errors import Conflict, Forbidden, InvalidInput, Unauthorized
from ..models import ApiToken, Department, Enterprise, User
from .actors import ROLES, Actor

USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{1,79}")
MIN_PASSWORD_LENGTH = 8
DEFAULT_TOKEN_TTL = timedelta(hours=12)

_hasher = PasswordHasher()
# Verified against when the username is unknown, so a wrong name costs as much as a wrong password.
_dummy_hash: str | None = None


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    department: str | None = None,
    enterprise_id: int | None = None,
    *,
    display_name: str = "",
    now: datetime | None = None,
) -> User:
    """Create an active user; an officer needs a department, an enterprise user an enterprise."""
    errors: dict[str, list[str]] = {}
    username = (username or "").strip().lower()
    if not USERNAME_RE.fullmatch(username):
        errors["username"] = [
            "用户名须为 2-80 位小写字母、数字或 ._- (lower-case letters, digits, ._-)"
        ]
    if not password or len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = [
            f"密码至少 {MIN_PASSWORD_LENGTH} 位 (at least {MIN_PASSWORD_LENGTH} characters)"
        ]
    if role not in ROLES:
        errors["role"] = [f"角色须为 {', '.join(ROLES)} 之一"]
    if role == "officer":
        if not department or session.get(Department, department) is None:
            errors["department"] = [
                "办事员必须属于一个已登记的部门 (an officer needs a known department)"
            ]
    elif department:
        errors["department"] = ["只有办事员属于部门 (only officers belong to a department)"]
    if role == "enterprise":
        if enterprise_id is None or session.get(Enterprise, enterprise_id) is None:
            errors["enterprise_id"] = [
                "企业用户必须属于一个已登记的企业 (an enterprise user needs an enterprise)"
            ]
    elif enterprise_id is not None:
        errors["enterprise_id"] = [
            "只有企业用户属于企业 (only enterprise users belong to an enterprise)"
        ]
    if errors:
        raise InvalidInput("用户信息无效 (invalid user)", errors)
    if session.scalars(select(User.id).where(User.username == username)).first() is not None:
        raise Conflict(f"用户名 {username} 已存在 (username taken)")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=_hasher.hash(password),
        role=role,
        department_code=department if role == "officer" else None,
        enterprise_id=enterprise_id if role == "enterprise" else None,
        active=True,
        created_at=_now(now),
    )
    try:
        with session.begin_nested():  # a concurrent create of the same name commits first
            session.add(user)
    except IntegrityError:
        raise Conflict(f"用户名 {username} 已存在 (username taken)") from None
    return user


def create_enterprise(
    session: Session, name: str, uscc: str, *, now: datetime | None = None
) -> Enterprise:
    """Register an enterprise; the unified social credit code must pass its GB 32100 check digit."""
    name = (name or "").strip()
    uscc = (uscc or "").strip().upper()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["此项为必填项 (required)"]
    if not forms.is_valid_uscc(uscc):
        errors["uscc"] = ["统一社会信用代码无效 (invalid unified social credit code)"]
    if errors:
        raise InvalidInput("企业信息无效 (invalid enterprise)", errors)
    if session.scalars(select(Enterprise.id).where(Enterprise.uscc == uscc)).first() is not None:
        raise Conflict("该统一社会信用代码已登记 (an enterprise with this code exists)")
    enterprise = Enterprise(name=name[:200], uscc=uscc, created_at=_now(now))
    try:
        with session.begin_nested():
            session.add(enterprise)
    except IntegrityError:
        raise Conflict("该统一社会信用代码已登记 (an enterprise with this code exists)") from None
    return enterprise


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def authenticate(
    session: Session,
    username: str,
    password: str,
    now: datetime,
    ttl: timedelta = DEFAULT_TOKEN_TTL,
) -> tuple[str, User]:
    """Check the password and issue an opaque bearer token; Unauthorized on any mismatch."""
    global _dummy_hash
    user = session.scalars(
        select(User).where(User.username == (username or "").strip().lower())
    ).first()
    if user is None or not user.active:
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
        with contextlib.suppress(VerificationError):
            _hasher.verify(_dummy_hash, password or "")
        raise Unauthorized("用户名或密码错误 (wrong username or password)")
    try:
        _hasher.verify(user.password_hash, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise Unauthorized("用户名或密码错误 (wrong username or password)") from None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id, ApiToken.expires_at <= now))
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id, token_sha256=_token_digest(token), created_at=now, expires_at=now + ttl
        )
    )
    session.flush()
    return token, user


def _live_token_owner(query):
    """``query`` (selecting from User) narrowed to the active owner of the live token whose
    digest is bound as ``digest`` at time ``now``."""
    return query.join(ApiToken, ApiToken.user_id == User.id).where(
        ApiToken.token_sha256 == bindparam("digest"),
        ApiToken.expires_at > bindparam("now"),
        User.active.is_(True),
    )


# Built once: they run before every request (building and keying a statement costs as much
# as running it on SQLite).
_USER_BY_TOKEN = _live_token_owner(select(User))
_ACTOR_BY_TOKEN = _live_token_owner(
    select(User.id, User.username, User.role, User.department_code, User.enterprise_id)
)


def _token_params(token: str, now: datetime) -> dict:
    if not token:
        raise Unauthorized("缺少访问令牌 (missing bearer token)")
    return {"digest": _token_digest(token), "now": now}


def user_for_token(session: Session, token: str, now: datetime) -> User:
    """The active user a live token belongs to (with the enterprise); Unauthorized otherwise."""
    user = session.scalars(_USER_BY_TOKEN, _token_params(token, now)).first()
    if user is None:
        raise Unauthorized("访问令牌无效或已过期 (invalid or expired token)")
    return user


def actor_for_token(session: Session, token: str, now: datetime) -> Actor:
    """What authorization needs of a live token's active user, in one narrow query.

    Runs before every API request, so it reads five columns instead of loading ORM rows.
    """
    row = session.execute(_ACTOR_BY_TOKEN, _token_params(token, now)).first()
    if row is None:
        raise Unauthorized("访问令牌无效或已过期 (invalid or expired token)")
    return Actor(row.username, row.role, row.department_code, row.enterprise_id, row.id)


def revoke_token(session: Session, token: str) -> bool:
    """Log out: the token stops working at once (not only when it expires)."""
    return bool(
        session.execute(
            delete(ApiToken).where(ApiToken.token_sha256 == _token_digest(token))
        ).rowcount
    )


def list_users(session: Session, actor: Actor, department: str | None = None) -> list[User]:
    """Admins and officers (who assign tasks to colleagues) may list users."""
    if actor.role not in ("admin", "officer"):
        raise Forbidden("只有管理员和办事员可以查看用户 (admins and officers only)")
    query = select(User).where(User.active.is_(True))
    if department:
        query = query.where(User.department_code == department)
    if actor.role == "officer":
        # Officers see bureau staff, not the accounts of enterprises.
        query = query.where(User.role != "enterprise")
    return list(session.scalars(query.order_by(User.username)))


def display_names(session: Session, usernames) -> dict[str, str]:
    """username -> display name of the users among ``usernames`` (one query); others are absent."""
    names = sorted({name for name in usernames if name})
    if not names:
        return {}
    rows = session.execute(select(User.username, User.display_name).where(User.username.in_(names)))
    return {username: display or username for username, display in rows}


def list_departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).order_by(Department.code)))


def seed_departments(session: Session) -> int:
    """Insert or update every department of engine.departments; returns how many there are."""
    for code, (name_zh, name_en) in DEPARTMENTS.items():
        row = session.get(Department, code)
        if row is None:
            session.add(Department(code=code, name_zh=name_zh, name_en=name_en))
        else:
            row.name_zh, row.name_en = name_zh, name_en
    session.flush()
    return len(DEPARTMENTS)
