"""Stories: which articles report the same development.

A story belongs to a route (the watched actor pair it is about) and its state is plain
data, so the Faust worker can keep it in a table partitioned by route: every article of
a pair lands on the same partition, and one worker owns its stories however many workers
run. ``newsmon replay`` keeps the same books in a dict.

First version: an article joins a story when it is the same article (same id) or an
obvious near-duplicate (same normalised title) within the story window.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

from monitor.identity import short_hash
from monitor.models import TaggedArticle

MAX_ARTICLE_IDS = 500
# " - BBC News", " | Reuters", " — The Guardian": the outlet's suffix is not the title.
OUTLET_SUFFIX = re.compile(r"\s+[-|–—:]\s+[^-|–—:]{2,40}$")
NON_WORD = re.compile(r"[^\w\s]+")


def title_key(title: str) -> str:
    """Normalised title: two outlets' copies of one wire story compare equal."""
    title = unicodedata.normalize("NFKC", title).strip()
    title = OUTLET_SUFFIX.sub("", title)
    title = NON_WORD.sub(" ", title.casefold())
    return " ".join(title.split())


def source_of(tagged: TaggedArticle) -> str:
    article = tagged.article
    return article.source or article.feed or "unknown"


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
    #: alert id -> id of the article that raised it (to resend it after a crash).
    alerts: dict[str, str] = field(default_factory=dict)

    @property
    def corroboration(self) -> int:
        """How many distinct outlets reported the story."""
        return len(self.sources)

    def add(self, tagged: TaggedArticle, now: float) -> None:
        article = tagged.article
        if article.id not in self.article_ids:
            self.article_ids = (self.article_ids + [article.id])[-MAX_ARTICLE_IDS:]
        key = title_key(article.title)
        if key and key not in self.title_keys:
            self.title_keys = (self.title_keys + [key])[-MAX_ARTICLE_IDS:]
        source = source_of(tagged)
        if source not in self.sources:
            self.sources = self.sources + [source]
        self.topics = sorted(set(self.topics) | set(tagged.topics))
        self.last_seen = max(self.last_seen, now)


@dataclass(frozen=True)
class Placement:
    story: Story
    new_story: bool
    #: The same article was seen before (a re-poll, or reprocessing after a crash).
    repeat: bool


class StoryBook:
    """The open stories of one route, as state that round-trips through a Faust table."""

    def __init__(self, route: str, stories: list[Story] | None = None, window_s: float = 7 * 86400):
        self.route = route
        self.stories = stories or []
        self.window_s = window_s
        self.created = 0

    @classmethod
    def from_state(cls, route: str, state: dict[str, Any] | None, window_s: float) -> "StoryBook":
        stories = [Story(**item) for item in (state or {}).get("stories", [])]
        return cls(route, stories, window_s)

    def state(self) -> dict[str, Any]:
        return {"stories": [asdict(story) for story in self.stories]}

    def place(self, tagged: TaggedArticle, now: float) -> Placement:
        """Put the article into its story, opening a new story when none matches."""
        self._expire(now)
        article = tagged.article
        for story in self.stories:
            if article.id in story.article_ids:
                story.add(tagged, now)
                return Placement(story, new_story=False, repeat=True)
        key = title_key(article.title)
        for story in self.stories:
            if key and key in story.title_keys:
                story.add(tagged, now)
                return Placement(story, new_story=False, repeat=False)
        story = Story(
            id=short_hash("story", self.route, article.id),
            route=self.route,
            headline=" ".join(article.title.split()) or _first_sentence(tagged),
            first_seen=now,
            last_seen=now,
            first_source=source_of(tagged),
        )
        story.add(tagged, now)
        self.stories.append(story)
        self.created += 1
        return Placement(story, new_story=True, repeat=False)

    def _expire(self, now: float) -> None:
        self.stories = [s for s in self.stories if now - s.last_seen <= self.window_s]


def _first_sentence(tagged: TaggedArticle) -> str:
    if tagged.evidence:
        return tagged.evidence[0].sentence[:200]
    return " ".join(tagged.article.body.split())[:120]
