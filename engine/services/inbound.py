"""Inbound webhooks from other platforms, correlated as BPMN messages to a case.

``POST /api/v1/hooks/{source}``: the body is signed with the Standard Webhooks scheme and the
secret configured for the source (``PAZHOU_INBOUND_SECRET_<SOURCE>``); it names the case
(``case_number``) and carries ``data``. A replay of the same ``webhook-id`` is answered
without correlating again (an ``inbound_receipt`` row commits with the message).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import webhooks

from ..errors import InvalidInput, NotFound, Unauthorized
from ..models import InboundReceipt
from . import cases
from .actors import Actor

# source -> the BPMN message its callbacks are correlated as
SOURCE_MESSAGES = {"cim": "bim_model_accepted"}


@dataclass(frozen=True)
class InboundResult:
    case_number: str
    message: str
    duplicate: bool


def receive(
    session: Session,
    source: str,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Mapping[str, str],
    now: datetime,
) -> InboundResult:
    """Verify, deduplicate and correlate one inbound callback."""
    message = SOURCE_MESSAGES.get(source)
    secret = secrets.get(source)
    if message is None or not secret:
        raise NotFound(f"未配置的回调来源 (unknown inbound source) {source!r}")
    try:
        payload = webhooks.verify(secret, headers, body)
    except webhooks.InvalidSignature as exc:
        raise Unauthorized(f"签名无效 (invalid webhook signature): {exc}") from None
    except webhooks.InvalidPayload as exc:
        raise InvalidInput(f"回调内容无效 (invalid body): {exc}", {"body": [str(exc)]}) from None
    case_number = payload.get("case_number")
    data = payload.get("data", {})
    errors = {}
    if not isinstance(case_number, str) or not case_number.strip():
        errors["case_number"] = ["此项为必填项 (required)"]
    if not isinstance(data, dict):
        errors["data"] = ["必须是 JSON 对象 (must be an object)"]
    if errors:
        raise InvalidInput("回调内容无效 (invalid body)", errors)
    msg_id = {k.lower(): v for k, v in headers.items()}["webhook-id"][:100]
    if session.get(InboundReceipt, (source, msg_id)) is not None:
        return InboundResult(case_number, message, duplicate=True)
    # Inserted first: a concurrent replay waits on this key, then finds it taken.
    try:
        with session.begin_nested():
            session.add(InboundReceipt(source=source, msg_id=msg_id, received_at=now))
    except IntegrityError:
        return InboundResult(case_number, message, duplicate=True)
    actor = Actor(f"hook:{source}", "admin")
    case = cases.send_message(session, actor, case_number.strip(), message, data, now)
    return InboundResult(case.case_number, message, duplicate=False)
