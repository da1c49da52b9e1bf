"""Settings from the environment (prefix `TIMELINE_`), with defaults that serve the shipped data."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the app and the CLI can be configured with."""

    model_config = SettingsConfigDict(env_prefix="TIMELINE_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///timeline.db",
        description="SQLAlchemy URL; a SQLite file by default, postgresql://... to scale out.",
    )
    data_dir: Path = Field(default=Path("data"), description="The YAML dataset directory.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default=["*"],
        description="Origins allowed to call the API from a browser (comma-separated).",
    )
    cache_max_age: int = Field(
        default=60,
        ge=0,
        description="Seconds browsers and proxies may reuse a response without asking.",
    )
    response_cache_mb: float = Field(
        default=64,
        ge=0,
        description="Memory for recent responses, answered again without a query (0: off).",
    )
    threads: int = Field(
        default=4,
        ge=1,
        le=256,
        description="Requests each worker process runs at once; more wait their turn.",
    )
    title: str = Field(default="tajik-timeline", description="Title shown in docs and feeds.")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
