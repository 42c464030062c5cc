"""The desk's settings: environment variables prefixed XIECHA_DESK_, read once at start."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.paths import desk_key_file
from services.common.trust import own_url
from services.desk.domain import calendar


class DeskSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XIECHA_DESK_", frozen=True)

    region: str = Field("zj", pattern=r"^[a-z0-9_-]{1,32}$")
    """Short name of the region this desk serves; names its queues and database."""
    provinces: str = "33"
    """Comma-separated 2-digit codes of the provincial-level regions whose bureaus it hosts."""
    database_url: str = ""
    """Defaults to postgresql://postgres:postgres@127.0.0.1:5432/xiecha_desk_<region>."""
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    amqp_password: str = ""
    """When set, the desk connects as its own broker user (``broker_url``) with it."""
    http_host: str = "127.0.0.1"
    http_port: int = 8101
    max_body_bytes: int = 256 * 1024
    consumer_concurrency: int = Field(32, ge=1, le=1000)
    db_pool_size: int = Field(10, ge=2, le=200)
    log_level: str = "INFO"
    limits: dict[str, int] = Field(default_factory=lambda: dict(calendar.DEFAULT_LIMITS))
    """Default time limit in working days per request kind (JSON, e.g. {"document_service": 8})."""
    remind_before_days: int = Field(2, ge=0, le=30)
    """Remind the recipient when this many working days are left."""
    escalate_after_days: int = Field(3, ge=0, le=60)
    """Escalate to the recipient region's coordinators this many working days past due."""
    deadline_check_seconds: float = Field(60.0, ge=0)
    """How often the background deadline watch runs; 0 turns it off (whoever moves the clock
    by hand, a test, then owns the only tick)."""

    signing_key: str = ""
    """This desk's SM2 private key file (its public key is the ``.pub`` beside it); when
    empty, ``desk-<region>.key`` in XIECHA_KEYS_DIR (else .run/keys), made if missing."""

    timeline_hash: Literal["sm3", "sha256"] = "sm3"
    """Hash of the timeline's chain: SM3 (GB/T 32905) by default, SHA-256 by setting."""

    hide_personal_after_days: int = Field(183, ge=0)
    """Days after a request ends until its personal data is hidden from investigators."""
    delete_after_days: int = Field(1096, ge=1)
    """Days after a request ends until the retention job deletes it and all its copies."""
    retention_check_seconds: float = Field(3600.0, ge=0)
    """How often the retention job runs; 0 turns it off."""
    token_days: int = Field(90, ge=1, le=3650)
    """How long a token issued or rotated from the command line stays valid."""
    token_rate: float = Field(50.0, gt=0)
    """Calls per second each token may make, sustained (429 and Retry-After beyond)."""
    token_burst: int = Field(200, ge=1)
    """Calls each token may make at once before ``token_rate`` applies."""
    signin_failures: int = Field(10, ge=1)
    """Failed sign-ins (unknown, expired or revoked tokens) an address may make per window."""
    signin_window_seconds: float = Field(60.0, gt=0)

    @field_validator("provinces")
    @classmethod
    def _check_provinces(cls, value: str) -> str:
        codes = [p.strip() for p in value.split(",") if p.strip()]
        if not codes or not all(len(p) == 2 and p.isdigit() for p in codes):
            raise ValueError("provinces must be comma-separated 2-digit codes, e.g. 33,44")
        return ",".join(codes)

    @property
    def province_codes(self) -> tuple[str, ...]:
        return tuple(self.provinces.split(","))

    @property
    def dsn(self) -> str:
        return self.database_url or (
            f"postgresql://postgres:postgres@127.0.0.1:5432/xiecha_desk_{self.region}"
        )

    @property
    def broker_url(self) -> str:
        return own_url(self.amqp_url, self.amqp_password, "desk", self.region,
                       self.province_codes)

    @property
    def key_file(self) -> Path:
        return Path(self.signing_key) if self.signing_key else desk_key_file(self.region)

    def hosts(self, bureau: str) -> bool:
        return bureau[:2] in self.province_codes
