"""Settings, read once from the environment (prefix ``TRYGG_``) and passed in.

Nothing reads the environment at import time; ``Settings()`` is built by the CLI
or the app factory and handed down.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigurationError(ValueError):
    """A setting that cannot work (a bad database URL, a missing key file, …)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRYGG_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./trygg.db",
        description="sqlite:///PATH (embedded default) or postgresql+psycopg://USER@HOST:PORT/DB",
    )
    database_schema: str | None = Field(
        default=None, description="PostgreSQL schema to use (default: public)"
    )
    db_pool_size: int = Field(default=10, ge=1, le=200)
    clock_skew_seconds: int = Field(
        default=300, ge=0, le=86_400, description="how far in the future a timestamp may be"
    )
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    embedded_projections: bool = Field(
        default=True,
        description="run the projection runner inside the API process; "
        "set false when `trygg project` runs on its own",
    )
    projection_page_size: int = Field(
        default=1000, ge=1, le=10_000, description="events applied per projection transaction"
    )
    read_wait_seconds: float = Field(
        default=5.0, ge=0, le=60, description="how long a read with min_position may wait"
    )
    signing_key_file: Path | None = Field(
        default=None,
        description="Ed25519 key (PEM) that signs checkpoints; generated on first use when "
        "missing. Default on SQLite: beside the database file. Required on PostgreSQL",
    )
    log_origin: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$",
        description="the log's name in its checkpoints and the signing key's name; "
        "default: trygg-ledger/<random id>, fixed when the log is created",
    )
    witnesses: str | None = Field(
        default=None,
        description="witnesses that cosign checkpoints: comma-separated 'URL VKEY' pairs",
    )
    witness_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="how long to wait for one witness"
    )
    checkpoint_interval_seconds: float = Field(default=10.0, gt=0, le=86_400)
    rate_limit_per_second: float = Field(
        default=100.0, ge=0, description="requests a second per API key and process; 0 = off"
    )
    rate_limit_burst: int = Field(default=200, ge=1)
    max_batch_items: int = Field(default=1000, ge=1, le=10_000)
    earliest_date: date = Field(
        default=date(2000, 1, 1),
        ge=date(1900, 1, 1),
        description="entries that happened before this day are refused (a wrong year, usually)",
    )
    body_read_timeout_seconds: float = Field(
        default=30.0, gt=0, le=600, description="how long a request body may take to arrive (408)"
    )
    ideas_per_hour: int = Field(
        default=10,
        ge=0,
        le=100_000,
        description="ideas one client address may send an hour; 0 = off",
    )
    group_commit_max: int = Field(
        default=64,
        ge=1,
        le=1_000,
        description="single writes that may share one transaction when they arrive together; "
        "1 = a transaction each",
    )
    public_max_body_bytes: int = Field(
        default=16 * 1024, ge=1024, description="body cap for what anyone may send without a key"
    )
