"""The sink interface: where alerts go once they leave the outbox.

A sink is a small class registered by type name; ``config/sinks.yaml`` lists instances.
Adding Slack or webhooks is a new module with ``@register("slack")``, not a branch in
a dispatcher.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from monitor.models import SEVERITIES, Alert


class DeliveryError(Exception):
    """A delivery failed. ``retryable`` says whether trying again later can help."""

    def __init__(self, reason: str, *, retryable: bool = True, retry_after_s: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after_s = retry_after_s


class EndpointThrottled(DeliveryError):
    """Nothing was sent: the endpoint asked us to wait (Retry-After) longer than a sink
    sleeps inline. The scheduler retries at ``retry_after_s`` without counting an attempt."""

    def __init__(self, reason: str, *, retry_after_s: float):
        super().__init__(reason, retryable=True, retry_after_s=retry_after_s)


#: What a header says about an alert whose deciding claim is not asserted: an analyst
#: must see at a glance that a story rests on a denial, a condition or a report.
MODALITY_LABELS = {"denied": "denied", "conditional": "conditional", "hedged": "reported", "attributed": "reported"}


def modality_label(alert: Alert) -> str:
    """The header word for the alert's modality: denied, conditional or reported (hedged
    or attributed); empty when asserted."""
    return MODALITY_LABELS.get(alert.modality, "")


def severity_rank(severity: str) -> int:
    """Position in SEVERITIES (low 0 … high 2); an unknown value ranks as medium, the
    Alert's default, so an odd record is neither dropped everywhere nor sent everywhere."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else SEVERITIES.index("medium")


#: Seconds before each retry after a failed attempt (then the alert is dead-lettered).
DEFAULT_RETRY_DELAYS_S = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0)


class SinkConfig(BaseModel):
    """Fields every sink accepts; each sink type extends it with its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    #: Unique name of this sink instance (the delivery ledger's key); defaults to the type.
    name: str = ""
    #: 0: deliver each alert at once; N: collect alerts and send one digest every N minutes.
    digest_minutes: float = Field(default=0.0, ge=0)
    #: Waits before each retry of a failed delivery; when they are used up the alert is
    #: dead-lettered. Each wait is jittered by ±``retry_jitter``.
    retry_delays_s: tuple[float, ...] = DEFAULT_RETRY_DELAYS_S
    retry_jitter: float = Field(default=0.2, ge=0, le=1)
    #: Alerts below this severity are not sent to this sink (a Slack channel may take only
    #: ``high`` while a webhook takes everything).
    min_severity: Literal["low", "medium", "high"] = "low"
    #: Public base URL of the analyst console ("https://newsmon.example.org/"): when set,
    #: each alert links to its story's page there. Empty: no link.
    console_url: str = ""

    @property
    def sink_name(self) -> str:
        return self.name or self.type

    def accepts(self, alert: Alert) -> bool:
        """True when the alert's severity reaches ``min_severity``."""
        return severity_rank(alert.severity) >= severity_rank(self.min_severity)


def console_link(console_url: str, alert: Alert) -> str | None:
    """The alert's page on the console (its story, at the alert's "why" section), or None
    without a console URL. The path is the console's ``/story/{story_id}`` route."""
    if not console_url.startswith(("https://", "http://")):
        return None
    return f"{console_url.rstrip('/')}/story/{quote(alert.story_id, safe='')}#why-{quote(alert.id, safe='')}"


class Sink(abc.ABC):
    """Delivers alerts somewhere. ``send`` raises DeliveryError when it could not."""

    type_name: ClassVar[str] = ""
    config_model: ClassVar[type[SinkConfig]] = SinkConfig

    def __init__(self, config: SinkConfig, *, data_dir: Path | None = None):
        self.config = config
        self.name = config.sink_name
        #: Where relative file paths in the sink's options resolve (MONITOR_DATA_DIR).
        self.data_dir = data_dir or Path(".")

    async def start(self) -> None:  # noqa: B027 - optional hook: most sinks open nothing
        """Open connections or files; called once before the first ``send``."""

    @property
    def digest(self) -> bool:
        """True when alerts are batched into one message every ``digest_minutes``."""
        return self.config.digest_minutes > 0

    @abc.abstractmethod
    async def send(self, alert: Alert) -> None:
        """Deliver one alert; raise DeliveryError on failure."""

    async def deliver(self, alert: Alert, thread: str | None = None) -> str | None:
        """Deliver one alert and return a reference to what was posted (a Slack message
        ts) or None. ``thread`` is the reference returned for the alert this one updates;
        sinks that can thread replies use it."""
        await self.send(alert)
        return None

    async def send_batch(self, alerts: list[Alert]) -> None:
        """Deliver a digest. The default sends each alert; Slack and webhooks send one message."""
        for alert in alerts:
            await self.send(alert)

    async def close(self) -> None:  # noqa: B027 - optional hook: most sinks hold nothing
        """Release what ``start`` opened."""


SINK_TYPES: dict[str, type[Sink]] = {}
S = TypeVar("S", bound=type[Sink])


def register(type_name: str) -> Callable[[S], S]:
    """Class decorator: make a sink available under ``type:`` in sinks.yaml."""

    def decorate(cls: S) -> S:
        cls.type_name = type_name
        SINK_TYPES[type_name] = cls
        return cls

    return decorate


def build_sink(raw: dict[str, Any], data_dir: Path | None = None) -> Sink:
    """A sink from one ``sinks.yaml`` entry; raises pydantic's ValidationError if invalid."""
    cls = SINK_TYPES[raw["type"]]
    return cls(cls.config_model.model_validate(raw), data_dir=data_dir)
