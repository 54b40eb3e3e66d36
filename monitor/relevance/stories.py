"""Stories: which articles report the same development, across outlets and wordings.

A story belongs to a route (the watched actor pair it is about) and its state is plain
data, so the Faust worker keeps it in a table keyed by route: every article of a pair lands
on the same partition, and one worker owns its stories however many workers run.
``newsmon replay`` keeps the same books in a dict.

An article joins a story, in this order, when it is

1. the same article (same id: a re-poll, or reprocessing after a crash) — a *repeat*;
2. a near-duplicate of one of the story's articles (MinHash over shingles, LSH bands,
   estimated Jaccard ≥ 0.5) or has the same normalised title — a wire copy, an update;
3. the same development in other words: within ``DEVELOPMENT_WINDOW_S`` of the story's
   last article, its claims are compatible with the story's (they share a topic, or one
   side has none) and it shares enough with the story: one point per distinctive key term
   (headline and lede words, named people, places and organisations other than the
   watched pair's own names; the evidence sentences' when the lede does not name both
   sides) and ``CLAIM_POINTS`` per claim kind ("RUS request CHN
   military_aid") the story already reported; ``DEVELOPMENT_POINTS`` or more joins.

Otherwise it opens a new story. Table values stay bounded because a whole route's stories
are rewritten to the changelog on every article: at most ``MAX_STORIES`` open stories per
route (the one that least recently took an article is dropped first, preferring one that
never raised an alert), and per story at most ``MAX_SIGNATURES``
signatures, ``MAX_TERMS`` terms, ``MAX_ARTICLE_IDS`` ids, ``MAX_SOURCES`` sources and
``MAX_CLAIM_KINDS`` claim kinds. ``bench/quality`` prints the resulting sizes.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from monitor.ingest.identity import short_hash
from monitor.models import Claim, TaggedArticle
from monitor.relevance import similarity
from monitor.text import squash

MAX_STORIES = 40
MAX_ARTICLE_IDS = 60
MAX_TITLE_KEYS = 20
MAX_SIGNATURES = 3
MAX_TERMS = 40
MAX_SOURCES = 50
MAX_CLAIM_KINDS = 40
MAX_ALERTS = 20
#: Same-development matches only within this long of the story's last article.
DEVELOPMENT_WINDOW_S = 3 * 86400
DEVELOPMENT_POINTS = 8
#: A term carried by this many of a route's open stories is common, not distinctive.
COMMON_IN_STORIES = 4
#: A claim kind the story already reported is enough on its own, within the window.
CLAIM_POINTS = DEVELOPMENT_POINTS

# " - BBC News", " | Reuters", " — The Guardian": the outlet's suffix is not the title.
OUTLET_SUFFIX = re.compile(r"\s+[-|–—:]\s+[^-|–—:]{2,40}$")
NON_WORD = re.compile(r"[^\w\s]+")

JOIN_REPEAT = "repeat"
JOIN_DUPLICATE = "near_duplicate"
JOIN_TITLE = "same_title"
JOIN_DEVELOPMENT = "same_development"
JOIN_NEW = "new"


#: How far past its fetch time an article's published time is believed (clock skew, zones).
FUTURE_SLACK_S = 3600.0


def article_time(tagged: TaggedArticle, clock: float | None, wall: float) -> float:
    """When an article happened, for story windows: its published time, but never later than
    ``FUTURE_SLACK_S`` after it was fetched (a future date would expire every open story of
    its route); its fetch time if undated; else the book's ``clock`` (the latest time it
    has seen: a replay's stream time), and only with nothing else the ``wall`` clock."""
    article = tagged.article
    fetched = article.fetched_at.timestamp() if article.fetched_at else None
    if article.published is not None:
        published = article.published.timestamp()
        return published if fetched is None else min(published, fetched + FUTURE_SLACK_S)
    if fetched is not None:
        return fetched
    return clock if clock is not None else wall


def title_key(title: str) -> str:
    """Normalised title: two outlets' copies of one wire story compare equal."""
    title = unicodedata.normalize("NFKC", title).strip()
    title = OUTLET_SUFFIX.sub("", title)
    title = NON_WORD.sub(" ", title.casefold())
    return squash(title, lines=False)


def source_of(tagged: TaggedArticle) -> str:
    return tagged.article.outlet or "unknown"


def claim_kind(claim: Claim) -> list[str]:
    """What a claim says, without its wording: subject, action, object, topic."""
    return [claim.subject, claim.action, claim.object, claim.topic]


@dataclass(frozen=True)
class Fingerprint:
    """What story matching needs of an article, computed once per article."""

    signature: np.ndarray
    terms: dict[str, int]
    topics: frozenset[str]
    #: Kinds of the article's alerting claims, as in ``Story.claim_kinds``.
    claim_kinds: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def of(cls, tagged: TaggedArticle, route_names: frozenset[str], topics: list[str], claims: list[Claim]) -> Fingerprint:
        text = f"{tagged.article.title}\n{tagged.article.body}"
        # Claims from the whole article, not the lede only: a live blog or a recap reports a
        # development far down the page (measured on the development set: pairs of one
        # story's relevant articles placed together 4 of 30 with lede claims, 13 of 30 with
        # all, 2 wrong pairs either way). The story's window keeps old background claims
        # from joining articles weeks apart.
        kinds = tuple(sorted({tuple(claim_kind(c)) for c in claims}))
        return cls(similarity.signature(text), similarity.key_terms(tagged, route_names), frozenset(topics), kinds)


@dataclass
class Story:
    id: str
    route: str
    headline: str
    first_seen: float
    last_seen: float
    first_source: str
    title_keys: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    article_ids: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    #: MinHash signatures (base64) of the first article and the latest ones.
    signatures: list[str] = field(default_factory=list)
    #: Key terms of the story's headlines and ledes with their weights.
    terms: dict[str, int] = field(default_factory=dict)
    #: Claim kinds ([subject, action, object, topic]) already reported as facts.
    claim_kinds: list[list[str]] = field(default_factory=list)
    #: alert id -> {"article", "kind", "change"}: to resend an alert after a crash.
    alerts: dict[str, dict[str, str]] = field(default_factory=dict)
    articles: int = 0

    @property
    def corroboration(self) -> int:
        """How many distinct outlets reported the story."""
        return len(self.sources)

    def add(self, tagged: TaggedArticle, now: float, fingerprint: Fingerprint | None) -> None:
        article = tagged.article
        if article.id not in self.article_ids:
            self.article_ids = (self.article_ids + [article.id])[-MAX_ARTICLE_IDS:]
            self.articles += 1
        key = title_key(article.title)
        if key and key not in self.title_keys:
            self.title_keys = (self.title_keys + [key])[-MAX_TITLE_KEYS:]
        source = source_of(tagged)
        if source not in self.sources and len(self.sources) < MAX_SOURCES:
            self.sources = self.sources + [source]
        self.last_seen = max(self.last_seen, now)
        if fingerprint is not None:
            self.topics = sorted(set(self.topics) | fingerprint.topics)
            encoded = similarity.encode(fingerprint.signature)
            if encoded not in self.signatures:
                # Keep the first article's signature (the original wording) and the latest.
                self.signatures = self.signatures[:1] + self.signatures[1:] + [encoded]
                if len(self.signatures) > MAX_SIGNATURES:
                    self.signatures = self.signatures[:1] + self.signatures[-(MAX_SIGNATURES - 1) :]
            merged = Counter(self.terms)
            merged.update(fingerprint.terms)
            self.terms = dict(merged.most_common(MAX_TERMS))

    def remember(self, claims: list[Claim]) -> None:
        for claim in claims:
            kind = claim_kind(claim)
            if kind not in self.claim_kinds:
                self.claim_kinds = (self.claim_kinds + [kind])[-MAX_CLAIM_KINDS:]

    def record_alert(self, alert_id: str, article_id: str, kind: str, change: str) -> None:
        self.alerts[alert_id] = {"article": article_id, "kind": kind, "change": change}
        if len(self.alerts) > MAX_ALERTS:
            # The first alert is kept: escalations thread under it.
            first, *rest = list(self.alerts.items())
            self.alerts = dict([first, *rest[-(MAX_ALERTS - 1) :]])


@dataclass(frozen=True)
class Placement:
    story: Story
    new_story: bool
    #: The same article was seen before (a re-poll, or reprocessing after a crash).
    repeat: bool
    #: How it joined: repeat, near_duplicate, same_title, same_development or new.
    how: str = JOIN_NEW
    score: float = 0.0


class StoryBook:
    """The open stories of one route, as state that round-trips through a Faust table."""

    def __init__(self, route: str, stories: list[Story] | None = None, window_s: float = 7 * 86400):
        self.route = route
        self.stories = stories or []
        self.window_s = window_s

    @classmethod
    def from_state(cls, route: str, state: dict[str, Any] | None, window_s: float) -> StoryBook:
        return cls(route, [_story_from(item) for item in (state or {}).get("stories", [])], window_s)

    def state(self) -> dict[str, Any]:
        """The stories as plain data, what ``dataclasses.asdict`` gives, built without its deep
        recursion: the detect stage writes it for every article, and a full book took 27-41 ms (0.8).
        Each list and dict is copied one level deep; their items (strings, numbers, claim kinds,
        alert entries) are replaced, never changed in place, so sharing them is safe."""
        return {
            "stories": [
                {name: value.copy() if isinstance(value, (list, dict)) else value for name, value in vars(story).items()}
                for story in self.stories
            ]
        }

    def copy(self) -> StoryBook:
        """An independent copy, through JSON as the daemon's table value goes.

        Through ``json`` rather than ``state()``: the json module copies in C where
        ``dataclasses.asdict`` recurses in Python, 9 ms against 48 ms for a full book
        (``MAX_STORIES`` stories, every list at its bound).
        """
        stories = json.loads(json.dumps([vars(story) for story in self.stories]))
        twin = StoryBook(self.route, [Story(**item) for item in stories], self.window_s)
        return twin

    def place(self, tagged: TaggedArticle, now: float, fingerprint: Fingerprint | None = None) -> Placement:
        """Put the article into its story, opening a new story when none matches."""
        self._expire(now)
        article = tagged.article
        for story in self.stories:
            if article.id in story.article_ids:
                story.add(tagged, now, None)
                self._touch(story)
                return Placement(story, new_story=False, repeat=True, how=JOIN_REPEAT)
        match = self._match(article.title, now, fingerprint)
        if match is not None:
            story, how, score = match
            story.add(tagged, now, fingerprint)
            self._touch(story)
            return Placement(story, new_story=False, repeat=False, how=how, score=score)
        story = Story(
            id=short_hash("story", self.route, article.id),
            route=self.route,
            headline=squash(article.title, lines=False) or _first_sentence(tagged),
            first_seen=now,
            last_seen=now,
            first_source=source_of(tagged),
        )
        story.add(tagged, now, fingerprint)
        self.stories.append(story)
        self._evict()
        return Placement(story, new_story=True, repeat=False, how=JOIN_NEW)

    def _touch(self, story: Story) -> None:
        """The list is kept in the order stories last took an article, most recent last.

        Arrival order, not ``last_seen``: an article's own date can be wrong (a feed's
        timezone, a date in the future), and one such story must not outlive every other.
        """
        self.stories.remove(story)
        self.stories.append(story)

    def _evict(self) -> None:
        """Over the bound, drop the story that least recently took an article, preferring one
        that never alerted: the background articles of a busy beat open many stories, and
        dropping an alerted one would alert its development again when the next outlet
        reports it. The story just opened (the last) is never the one dropped."""
        while len(self.stories) > MAX_STORIES:
            older = self.stories[:-1]
            victim = next((story for story in older if not story.alerts), older[0])
            self.stories.remove(victim)

    @property
    def clock(self) -> float | None:
        """The latest time any of its stories took an article (None: no story open)."""
        return max((story.last_seen for story in self.stories), default=None)

    def _match(self, title: str, now: float, fingerprint: Fingerprint | None) -> tuple[Story, str, float] | None:
        key = title_key(title)
        if key:
            for story in self.stories:
                if key in story.title_keys:
                    return story, JOIN_TITLE, 1.0
        if fingerprint is None:
            return None
        best: tuple[Story, str, float] | None = None
        for story in self.stories:
            for encoded in story.signatures:
                other = similarity.decode(encoded)
                if not similarity.share_a_band(fingerprint.signature, other):
                    continue
                score = similarity.jaccard(fingerprint.signature, other)
                if score >= similarity.NEAR_DUPLICATE and (best is None or score > best[2]):
                    best = (story, JOIN_DUPLICATE, score)
        if best is not None:
            return best
        common = self._common_terms()
        for story in self.stories:
            if now - story.last_seen > DEVELOPMENT_WINDOW_S:
                continue
            if fingerprint.topics and story.topics and not fingerprint.topics & set(story.topics):
                continue  # incompatible claims: one is about sanctions, the other about arms
            known = {tuple(kind) for kind in story.claim_kinds}
            score = similarity.shared_terms(fingerprint.terms, story.terms, common)
            score += CLAIM_POINTS * len(known & set(fingerprint.claim_kinds))
            if score >= DEVELOPMENT_POINTS and (best is None or score > best[2]):
                best = (story, JOIN_DEVELOPMENT, score)
        return best

    def _common_terms(self) -> frozenset[str]:
        """Terms that many open stories carry: an outlet's boilerplate ("editor's note",
        "sign up for the newsletter", "latest updates") or the beat's own words. They say
        nothing about which development an article reports, so they never count as shared;
        measured on the book itself, so no list of them is kept by hand."""
        counts = Counter(term for story in self.stories for term in story.terms)
        return frozenset(term for term, n in counts.items() if n >= COMMON_IN_STORIES)

    def _expire(self, now: float) -> None:
        self.stories = [s for s in self.stories if now - s.last_seen <= self.window_s]


_STORY_FIELDS = frozenset(Story.__dataclass_fields__)


def _story_from(item: dict[str, Any]) -> Story:
    """A story from table state, including state written by the first version (alert id ->
    article id) and by later versions (unknown fields are ignored, not fatal)."""
    item = {k: v for k, v in item.items() if k in _STORY_FIELDS}
    alerts = item.get("alerts") or {}
    item["alerts"] = {
        alert_id: raised if isinstance(raised, dict) else {"article": raised, "kind": "new", "change": ""}
        for alert_id, raised in alerts.items()
    }
    return Story(**item)


def _first_sentence(tagged: TaggedArticle) -> str:
    if tagged.evidence:
        return tagged.evidence[0].sentence[:200]
    return squash(tagged.article.body, lines=False)[:120]
