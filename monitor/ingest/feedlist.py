"""The feed list (``config/feeds.yaml``): what to poll, how often, under which name — and
which poller replica polls it."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.configfile import load_model

FEED_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class FeedConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Short stable name: the metrics label and the key of the feed's stored state.
    name: str
    url: str
    #: Outlet name shown in alerts; defaults to the feed's own title.
    source: str = ""
    #: Seconds between polls; defaults to MONITOR_POLL_INTERVAL_S.
    interval_s: float | None = Field(default=None, gt=0)
    #: Fetch the article page when the feed carries only a summary.
    full_text: bool = False
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not FEED_NAME.match(value):
            raise ValueError("feed name must be lower-case letters, digits, '.', '_' or '-' (at most 64)")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("feed url must start with http:// or https://")
        return value


class FeedList(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    feeds: list[FeedConfig] = []

    @model_validator(mode="after")
    def _unique_names(self) -> FeedList:
        names = [feed.name for feed in self.feeds]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"feed names must be unique; repeated: {', '.join(duplicates)}")
        return self

    @property
    def enabled(self) -> list[FeedConfig]:
        return [feed for feed in self.feeds if feed.enabled]


def load_feeds(path: Path) -> FeedList:
    """Read and validate ``feeds.yaml``; ConfigError names each bad line."""
    return load_model(path, FeedList)
