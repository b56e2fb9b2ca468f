"""SQLAlchemy 2.x declarative models: one place for every table."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# SQLite only auto-increments INTEGER PRIMARY KEY columns.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict: JSON, list: JSON}


class Department(Base):
    __tablename__ = "department"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))


class Enterprise(Base):
    __tablename__ = "enterprise"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    created_at: Mapped[datetime]


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    department_code: Mapped[str | None] = mapped_column(ForeignKey("department.code"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]

    enterprise: Mapped[Enterprise | None] = relationship(lazy="joined")


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship(lazy="joined")


class Deployment(Base):
    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(80))

    files: Mapped[list[DeploymentFile]] = relationship(back_populates="deployment")


class DeploymentFile(Base):
    __tablename__ = "deployment_file"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    filename: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(10))  # bpmn | dmn
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))

    deployment: Mapped[Deployment] = relationship(back_populates="files")


class ProcessDefinition(Base):
    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    # The process's `name_en` property (engine/element_names.py): its English name, if given.
    name_en: Mapped[str | None] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    file_id: Mapped[int] = mapped_column(ForeignKey("deployment_file.id"))
    # The SpiffWorkflow spec of this process alone (DMN tables embedded), as produced by the
    # serializer, so another process never has to re-parse the XML.
    spec: Mapped[dict] = mapped_column(JSON, deferred=True)
    called_keys: Mapped[list] = mapped_column(JSON, default=list)
    decision_refs: Mapped[list] = mapped_column(JSON, default=list)
    start_form_key: Mapped[str | None] = mapped_column(String(100))
    # Who may start it: department codes and/or "enterprise" (admins always); None: anyone.
    starters: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[datetime]

    file: Mapped[DeploymentFile] = relationship(lazy="select")


class Case(Base):
    __tablename__ = "case_instance"
    __table_args__ = (
        Index("ix_case_enterprise_started", "enterprise_id", "started_at"),
        Index("ix_case_status_stage", "status", "stage"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_number: Mapped[str] = mapped_column(String(30), unique=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    # key -> process_definition.id for every called process, fixed when the case starts.
    spec_refs: Mapped[dict] = mapped_column(JSON, default=dict)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"))
    project_name: Mapped[str] = mapped_column(String(300), default="")
    project_code: Mapped[str | None] = mapped_column(String(40), index=True)
    permit_numbers: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="running")
    stage: Mapped[str | None] = mapped_column(String(40))
    started_by: Mapped[str] = mapped_column(String(80), default="")
    started_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    lock_version: Mapped[int] = mapped_column(Integer, default=0)
    last_event_hash: Mapped[str] = mapped_column(String(64), default="")
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)

    definition: Mapped[ProcessDefinition] = relationship(lazy="select")
    enterprise: Mapped[Enterprise | None] = relationship(lazy="joined")
    # Read-only; an engine step sets it from the rows it already holds (no query after a step).
    open_tasks: Mapped[list[Task]] = relationship(
        primaryjoin="and_(Task.case_id == Case.id, Task.status.in_(('ready', 'claimed')))",
        order_by="Task.id",
        viewonly=True,
        lazy="select",
    )


class CaseState(Base):
    """The serialized workflow, kept apart so case lists never load it."""

    __tablename__ = "case_state"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("case_instance.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[bytes] = mapped_column(LargeBinary)
    # The case data as of the last step, for reads that must not deserialize the workflow.
    data: Mapped[dict | None] = mapped_column(JSON)


class Task(Base):
    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_inbox", "department", "status", "due_at", "id"),
        # The inbox's first page: open tasks of a department in due-date order, read in index order.
        Index(
            "ix_task_open_due",
            "department",
            "due_at",
            "id",
            sqlite_where=text("status IN ('ready', 'claimed')"),
            postgresql_where=text("status IN ('ready', 'claimed')"),
        ),
        Index("ix_task_assignee", "assignee", "status"),
        Index("ix_task_case", "case_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_instance.id", ondelete="CASCADE"))
    spiff_task_id: Mapped[str] = mapped_column(String(36), unique=True)
    element_id: Mapped[str] = mapped_column(String(200))
    process_key: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    # The element's `name_en`, copied when the row is written, so no page or step has to look
    # it up in the definition.
    title_en: Mapped[str | None] = mapped_column(String(300))
    department: Mapped[str] = mapped_column(String(40))
    assignee: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20))  # ready | claimed | completed | cancelled
    form_key: Mapped[str | None] = mapped_column(String(100))
    sla_working_days: Mapped[int | None] = mapped_column(Integer)
    legal_basis: Mapped[str | None] = mapped_column(String(300))
    # The element's `legal_basis_en`, copied when the row is written, like title_en.
    legal_basis_en: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    # SLA clock pause while the case waits on the enterprise (see engine/services/deadlines.py).
    paused_since: Mapped[datetime | None]
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(80))
    data: Mapped[dict | None] = mapped_column(JSON)

    case: Mapped[Case] = relationship(lazy="joined")


class Event(Base):
    """Append-only audit trail, hash-chained per case."""

    __tablename__ = "event"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_instance.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(60))
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime]
    payload: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Job(Base):
    """Deferred work (due timers, ...) claimed by workers."""

    __tablename__ = "job"
    __table_args__ = (
        Index("ix_job_due", "status", "due_at"),
        # A step reads its case's live jobs; without it, every live job of every case.
        Index("ix_job_case", "case_id", "status"),
        UniqueConstraint("kind", "case_id", "ref"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # timer
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_instance.id", ondelete="CASCADE"))
    ref: Mapped[str] = mapped_column(String(100))  # e.g. the spiff task id of a timer
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|done|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class CalendarDay(Base):
    """Statutory calendar overrides: holidays on weekdays, adjusted workdays on weekends."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)


class CalendarYear(Base):
    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(60))
    imported_at: Mapped[datetime]


class Attachment(Base):
    __tablename__ = "attachment"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_instance.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    url: Mapped[str] = mapped_column(String(1000))
    events: Mapped[list] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class WebhookDelivery(Base):
    """The outbox: written in the same transaction as the state change that caused it."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_delivery_due", "status", "next_attempt_at"),
        Index("ix_delivery_case_order", "subscription_id", "case_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    msg_id: Mapped[str] = mapped_column(String(64), unique=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscription.id", ondelete="CASCADE")
    )
    case_id: Mapped[int | None] = mapped_column(BigId)
    event_type: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|delivered|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_latency_ms: Mapped[float | None]
    delivered_at: Mapped[datetime | None]


class InboundReceipt(Base):
    """Inbound webhook ids already processed, so replays are idempotent."""

    __tablename__ = "inbound_receipt"

    source: Mapped[str] = mapped_column(String(40), primary_key=True)
    msg_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    received_at: Mapped[datetime]
