"""Case attachments: size-limited, type-checked uploads stored with their sha256.

Reading them back follows the case's visibility (cases.get_case): the API and the web pages
both list and fetch files through the readers at the end of this module.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath, PureWindowsPath

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from ..errors import Conflict, InvalidInput, NotFound
from ..models import Attachment, Case
from . import cases
from .actors import Actor

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
OCTET = "application/octet-stream"
ZIP_MAGIC = (b"PK\x03\x04",)

# extension -> (stored content type, accepted declared types, leading bytes or None)
ALLOWED: dict[str, tuple[str, frozenset[str], tuple[bytes, ...] | None]] = {
    ".pdf": ("application/pdf", frozenset({"application/pdf"}), (b"%PDF-",)),
    ".png": ("image/png", frozenset({"image/png"}), (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": (
        "image/jpeg",
        frozenset({"image/jpeg", "image/jpg", "image/pjpeg"}),
        (b"\xff\xd8\xff",),
    ),
    ".jpeg": (
        "image/jpeg",
        frozenset({"image/jpeg", "image/jpg", "image/pjpeg"}),
        (b"\xff\xd8\xff",),
    ),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        frozenset({"application/vnd.openxmlformats-officedocument.wordprocessingml.document"}),
        ZIP_MAGIC,
    ),
    ".xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        frozenset({"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}),
        ZIP_MAGIC,
    ),
    ".zip": (
        "application/zip",
        frozenset({"application/zip", "application/x-zip-compressed"}),
        ZIP_MAGIC,
    ),
    # CAD drawings and BIM models have no registered type browsers agree on.
    ".dwg": (OCTET, frozenset({"image/vnd.dwg", "application/acad", "application/x-dwg"}), None),
    ".ifc": (OCTET, frozenset({"application/x-step", "model/ifc", "text/plain"}), None),
}


def _clean_filename(filename: str) -> str:
    name = PureWindowsPath(PurePosixPath(filename or "").name).name.strip()
    return "".join(ch for ch in name if ch.isprintable())[:255]


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed the checks, with the id it will be stored under."""

    id: str
    filename: str
    content_type: str
    content: bytes


def check_upload(
    filename: str, content_type: str | None, content: bytes, max_bytes: int = DEFAULT_MAX_BYTES
) -> CheckedUpload:
    """Name, type, emptiness, size and leading bytes of an upload; InvalidInput keyed ``file``."""
    name = _clean_filename(filename)
    extension = PurePosixPath(name.lower()).suffix
    if not name or extension not in ALLOWED:
        allowed = ", ".join(sorted(ALLOWED))
        raise InvalidInput(
            "不支持的文件类型 (file type not allowed)", {"file": [f"允许的类型 allowed: {allowed}"]}
        )
    if not content:
        raise InvalidInput("文件为空 (empty file)", {"file": ["文件为空 (empty file)"]})
    if len(content) > max_bytes:
        raise InvalidInput(
            "文件过大 (file too large)",
            {"file": [f"最大 {max_bytes} 字节 (at most {max_bytes} bytes)"]},
        )
    stored_type, declared_ok, magic = ALLOWED[extension]
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    if declared and declared not in declared_ok and declared not in (OCTET, stored_type):
        raise InvalidInput(
            "文件类型与扩展名不符 (content type does not match the extension)",
            {"file": [f"{declared} 不是 {extension} 文件的类型 (not a {extension} type)"]},
        )
    if magic is not None and not content.startswith(magic):
        raise InvalidInput(
            "文件内容与扩展名不符 (content does not match the extension)",
            {"file": [f"不是有效的 {extension} 文件 (not a valid {extension} file)"]},
        )
    return CheckedUpload(str(uuid.uuid4()), name, stored_type, content)


def store_upload(
    session: Session, actor: Actor, case_id: int, upload: CheckedUpload, now: datetime
) -> Attachment:
    """Write a checked upload as an attachment of the case (the caller checked the case)."""
    attachment = Attachment(
        id=upload.id,
        case_id=case_id,
        filename=upload.filename,
        content_type=upload.content_type,
        size=len(upload.content),
        sha256=hashlib.sha256(upload.content).hexdigest(),
        content=upload.content,
        uploaded_by=actor.username,
        created_at=now,
    )
    session.add(attachment)
    session.flush()
    return attachment


def add_attachment(
    session: Session,
    actor: Actor,
    case_ref: str | int,
    filename: str,
    content_type: str | None,
    content: bytes,
    now: datetime,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Attachment:
    """Store an upload on a running case the actor may see; InvalidInput for size or type."""
    case = cases.get_case(session, actor, case_ref)
    # FOR SHARE: waits for a step holding the case (a cancel, the last completion) to commit,
    # and reads the status it left; uploads do not wait for each other.
    status = session.scalar(
        select(Case.status).where(Case.id == case.id).with_for_update(read=True)
    )
    if status != "running":
        raise Conflict("案件已结束，不能再上传附件 (the case is not running)")
    upload = check_upload(filename, content_type, content, max_bytes)
    return store_upload(session, actor, case.id, upload, now)


# Attachment ids are uuid4 text; anything longer (or holding NUL, which PostgreSQL refuses in
# text) names no file.
MAX_ID_LENGTH = 36


def case_attachments(session: Session, case_id: int) -> list[Attachment]:
    """A case's files, oldest first, without their content (a listing needs no bytes)."""
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.case_id == case_id)
            .options(defer(Attachment.content))
            .order_by(Attachment.created_at, Attachment.id)
        )
    )


def list_attachments(session: Session, actor: Actor, case_ref: str | int) -> list[Attachment]:
    """The files of a case the actor may see (NotFound otherwise), oldest first."""
    return case_attachments(session, cases.get_case(session, actor, case_ref).id)


def get_attachment(
    session: Session, actor: Actor, case_ref: str | int, attachment_id: str
) -> Attachment:
    """One file, with its content, of a case the actor may see.

    NotFound for a case the actor may not see, an unknown id, or a file of another case (a
    file is reached only through its own case).
    """
    case = cases.get_case(session, actor, case_ref)
    row = None
    if len(attachment_id) <= MAX_ID_LENGTH and "\x00" not in attachment_id:
        row = session.get(Attachment, attachment_id)
    if row is None or row.case_id != case.id:
        raise NotFound("附件不存在 (no such attachment)")
    return row
