"""The records every stage shares: what flows over the Kafka topics.

All are ``faust.Record`` with an explicit namespace (so a rename of the Python class does
not break messages already on a topic), ISO-8601 dates and validation. The poller, which
is not a Faust process, serialises them with the same classes.

``trusted_loads`` decodes a record one of our own stages built (and so validated) without
validating it again: the detect stage reads every tagged article, and re-validating its
hundred nested mentions cost 97 % of its decoding (4.4 ms of 4.5 ms for a routed article).
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar

import faust
from faust.models.fields import StringField
from faust.utils.json import on_default

#: Alert severities, lowest first: a sink's ``min_severity`` compares against this order.
SEVERITIES = ("low", "medium", "high")


def Text(default: str = "") -> StringField:
    """An optional string field that may be blank (faust rejects blank strings by default)."""
    return StringField(allow_blank=True, required=False, default=default)


def utcnow() -> datetime:
    return datetime.now(UTC)


def plain(value: Any) -> Any:
    """A record (or a list or dict of them) as plain JSON data, without faust's ``__faust``
    type markers; dates as faust writes them (ISO 8601, UTC as ``Z``)."""
    if isinstance(value, faust.Record):
        value = value.to_representation()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k != "__faust"}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return on_default(value)
    return value


def record_json(value: Any) -> str:
    """One line of JSON for a record: what ``newsmon replay`` prints and sinks write."""
    return json.dumps(plain(value), ensure_ascii=False)


#: Set only inside ``trusted_loads``. A context variable, so a tag pool thread (``nlp_processes``
#: = 0) building records at the same moment still validates its own.
_TRUSTED: ContextVar[bool] = ContextVar("newsmon_trusted_decode", default=False)


class Record(faust.Record, abstract=True):
    """Our records' base: faust's validation, skipped while ``trusted_loads`` decodes."""

    def validate_or_raise(self) -> None:
        # faust's generated __init__ ends with this call: the one place validation runs.
        if not _TRUSTED.get():
            super().validate_or_raise()


R = TypeVar("R", bound=Record)


def trusted_loads(model: type[R], payload: bytes) -> R:
    """``model.loads(payload)`` for bytes our own stage produced from a validated record.

    Coercion is unchanged (nested records, ISO dates); only the second validation is left out.
    Bytes that are not JSON, or miss a required field, still raise, so a stage still
    dead-letters them as undecodable; a field of the wrong type would pass here and fail (and
    be dead-lettered) in the stage that reads it — which only a foreign producer could cause.
    """
    token = _TRUSTED.set(True)
    try:
        return model.loads(payload, serializer="json")
    finally:
        _TRUSTED.reset(token)


class Article(Record, namespace="newsmon.article", isodates=True, validation=True, serializer="json"):
    """An article as fetched from a feed (or read from a file by ``newsmon replay``).

    ``id`` is a stable hash of the canonical URL, else of the feed's guid (see
    ``monitor.ingest.identity``), so the same story polled twice keeps its id.
    """

    id: str
    title: str = Text()
    summary: str = Text()
    text: str = Text()
    url: str = Text()
    feed: str = Text()
    source: str = Text()
    published: datetime | None = None
    fetched_at: datetime | None = None
    #: Hash of title and text: the same id with another hash is an update of the article.
    content_hash: str = Text()
    #: True when this is a changed version of an article already sent.
    updated: bool = False

    @property
    def body(self) -> str:
        """The longest text we have: the full text, else the feed's summary."""
        return self.text or self.summary

    @property
    def outlet(self) -> str:
        """Who published it: the configured source, else the feed's name ("" when neither)."""
        return self.source or self.feed


class Mention(Record, namespace="newsmon.mention", validation=True):
    """A named entity found in the article, linked to a watched actor when it is one."""

    text: str
    label: str
    actor: str | None = None
    sentence: int = 0


class Evidence(Record, namespace="newsmon.evidence", validation=True):
    """A sentence that links watched actors with a topic trigger."""

    sentence: str
    index: int
    actors: list[str] = []
    topics: list[str] = []
    triggers: list[str] = []
    #: The sentence with the watched link's sides marked ("[[Beijing|CHN]] … [[Moscow|RUS]]"),
    #: for evidence that is a window rather than a complete claim.
    marked: str = Text()


class Claim(Record, namespace="newsmon.claim", validation=True):
    """Who did what to whom, and how sure the text is about it."""

    subject: str
    action: str
    object: str
    topic: str
    modality: str = Text("asserted")
    cameo: str = Text()
    sentence: str = Text()
    index: int = 0
    #: For a third party's act on one side of a watched link, the other side ("USA sanctions
    #: CHN firms about RUS"); "" when subject and object are the link itself.
    about: str = Text()
    #: The sentence with actors and action marked: "[[China|CHN]] <<sent|provide>> arms to …".
    marked: str = Text()


class Window(Record, namespace="newsmon.window", validation=True):
    """A sentence that names a side of a watched link, with its neighbours in the same paragraph:
    what relevance reads when no sentence makes a complete claim."""

    #: The centre sentence (the title is sentence 0).
    index: int
    sentence: str
    #: The neighbouring sentences of the same paragraph, joined.
    around: str = Text()
    #: Actors named in the centre sentence, and those named only in its neighbours.
    actors: list[str] = []
    near: list[str] = []
    #: Topics of the triggers in the centre sentence, and only in its neighbours.
    topics: list[str] = []
    near_topics: list[str] = []
    #: Other words read in the centre sentence (see ``monitor.nlp.windows``).
    cues: list[str] = []
    #: The centre sentence with the sides of the watched link marked: "[[Beijing|CHN]] … [[Moscow|RUS]]".
    marked: str = Text()


class TaggedArticle(Record, namespace="newsmon.tagged", isodates=True, validation=True, serializer="json"):
    """An article after NLP: its actors, topics, evidence and claims."""

    article: Article
    mentions: list[Mention] = []
    actors: list[str] = []
    topics: list[str] = []
    evidence: list[Evidence] = []
    claims: list[Claim] = []
    windows: list[Window] = []
    #: Actors named in the title and lede: who "Beijing", "the two leaders" or "it" refer to.
    lede_actors: list[str] = []
    #: Actors named in the title alone (sentence 0 when the article has a title).
    title_actors: list[str] = []
    #: Partition key for story state: the watched actor pair the article is about, or "".
    route: str = Text()
    tagged_at: datetime | None = None


class Alert(Record, namespace="newsmon.alert", isodates=True, validation=True, serializer="json"):
    """A new story or an escalation worth telling an analyst about.

    ``id`` is derived from the story and what changed, so reprocessing the same article
    after a crash yields the same id and sinks can deliver idempotently.
    """

    id: str
    story_id: str
    kind: str  # "new" or "escalation"
    headline: str
    topics: list[str] = []
    actors: list[str] = []
    evidence: list[Evidence] = []
    claims: list[Claim] = []
    rule: str = Text()
    severity: str = Text("medium")
    article_id: str = Text()
    source: str = Text()
    url: str = Text()
    first_source: str = Text()
    corroboration: int = 1
    first_seen: datetime | None = None
    published: datetime | None = None
    fetched_at: datetime | None = None
    created_at: datetime | None = None
    #: For an escalation: the id of the story's first alert, so sinks can thread it.
    updates: str = Text()
    #: Modality of the claim that decided the alert: asserted, attributed, hedged,
    #: conditional or denied (a denial still alerts, at a lower severity, and says so).
    modality: str = Text("asserted")
    #: Relevance score of the deciding article, in [0, 1].
    score: float = 0.0


class Decision(Record, namespace="newsmon.decision", isodates=True, validation=True, serializer="json"):
    """What the pipeline decided about one article: the ``newsmon replay`` contract.

    Fields are only ever added, never renamed; the README documents them.
    """

    id: str
    relevant: bool
    alert: bool
    topics: list[str] = []
    story: str | None = None
    actors: list[str] = []
    evidence: list[str] = []
    claims: list[Claim] = []
    new_story: bool = False
    escalation: bool = False
    corroboration: int = 0
    title: str = Text()
    source: str = Text()
    url: str = Text()
    alert_id: str | None = None
    #: Relevance score in [0, 1].
    score: float = 0.0


class DeadLetter(Record, namespace="newsmon.deadletter", isodates=True, validation=True, serializer="json"):
    """Something a stage could not process, kept with its cause for an operator."""

    stage: str
    reason: str
    error: str = Text()
    key: str = Text()
    payload: str = Text()
    topic: str = Text()
    partition: int = -1
    offset: int = -1
    attempts: int = 1
    failed_at: datetime | None = None
    #: For a failed delivery: the sink it could not reach (``newsmon dlq resend`` resends to it only).
    sink: str = Text()


class FeedStatus(faust.Record, namespace="newsmon.feedstatus", isodates=True, validation=True, serializer="json"):
    """One feed's last poll, on the ``feed-status`` topic, keyed by the feed's name.

    The poller writes one per feed it polled; the console keeps the latest per feed for
    its health page (it never reads the poller's own state file).
    """

    feed: str
    #: The poll's outcome (``ok``, ``not_modified``, ``http_error``, ``parse_error``…).
    outcome: str
    ok: bool = True
    #: The feed's schedule status: ``active``, ``backing_off``, ``broken`` or ``gone``.
    status: str = Text("active")
    error: str = Text()
    consecutive_errors: int = 0
    new: int = 0
    updated: int = 0
    checked_at: datetime | None = None
    last_success: datetime | None = None


#: What an analyst may say about an alert or a story on the console.
FEEDBACK_VERDICTS = ("relevant", "not_relevant", "wrong_story", "mute")


class Feedback(Record, namespace="newsmon.feedback", isodates=True, validation=True, serializer="json"):
    """An analyst's judgement from the console, on the ``feedback`` topic.

    Keyed by the story's route (the watched pair) so the detect stage that owns the story
    reads the mute; ``id`` is random per click, so a re-read of the topic stores it once.
    """

    id: str
    verdict: str
    story_id: str = Text()
    alert_id: str = Text()
    article_id: str = Text()
    route: str = Text()
    #: For ``wrong_story``: the story it belongs with, as the analyst wrote it.
    note: str = Text()
    created_at: datetime | None = None


class DeliveryTask(Record, namespace="newsmon.deliverytask", validation=True, serializer="json"):
    """A message on the delivery-retries topic, and a pending delivery in its table.

    ``op``: ``schedule`` (deliver ``alert`` to ``sink`` at ``not_before``: a retry or a
    digest), ``resend`` (an operator resends a dead letter; ``replay`` is accepted from older
    tasks), ``tick`` (deliver what is due on this partition now) or ``prune`` (delete this
    partition's ledger entries past their retention).
    """

    op: str
    sink: str = Text()
    alert: Alert | None = None
    #: Attempts made so far (a digest entry starts at 0).
    attempt: int = 0
    #: Unix time before which nothing is sent.
    not_before: float = 0.0
    first_failed_at: float = 0.0
    error: str = Text()
    #: Partition of the delivery-retries topic (and so of the ledger) that owns this entry.
    partition: int = -1
