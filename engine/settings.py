"""Explicit settings for every entry point (app, CLI, worker); read from the environment on demand."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def default_instance_path() -> Path:
    return Path(os.environ.get("PAZHOU_INSTANCE_PATH", Path.cwd() / "instance"))


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str = "dev-only-secret"
    instance_path: Path = field(default_factory=default_instance_path)
    token_ttl_hours: int = 12
    max_upload_bytes: int = 20 * 1024 * 1024
    max_bpmn_bytes: int = 5 * 1024 * 1024
    script_timeout_seconds: float = 1.0
    embedded_worker: bool = False
    inbound_secrets: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        instance = default_instance_path()
        values = {
            "database_url": os.environ.get("PAZHOU_DATABASE_URL")
            or f"sqlite:///{instance / 'pazhou.sqlite3'}",
            "secret_key": os.environ.get("PAZHOU_SECRET_KEY", "dev-only-secret"),
            "instance_path": instance,
            "embedded_worker": os.environ.get("PAZHOU_EMBEDDED_WORKER", "") == "1",
            "inbound_secrets": {
                key[len("PAZHOU_INBOUND_SECRET_") :].lower(): value
                for key, value in os.environ.items()
                if key.startswith("PAZHOU_INBOUND_SECRET_")
            },
        }
        values.update(overrides)
        return cls(**values)
