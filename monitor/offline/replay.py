"""``newsmon replay``: the worker's tag → detect logic, in-process, over article files.

Prints one JSON object per input article, in input order: the ``Decision`` record, which
is also what the running daemon writes to its decisions topic. Every quality measurement
goes through this contract (documented in the README).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from monitor.models import Article, Decision, TaggedArticle, record_json
from monitor.nlp.tag import Tagger
from monitor.offline.readers import read_articles
from monitor.relevance.decision import Rulebook, Verdict, decide
from monitor.relevance.stories import StoryBook
from monitor.settings import Settings


@dataclass
class ReplayStats:
    articles: int = 0
    relevant: int = 0
    alerts: int = 0
    failed: int = 0
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.articles / self.seconds if self.seconds else 0.0


class Replayer:
    """Runs articles through tag → detect with story books kept in memory."""

    def __init__(self, tagger: Tagger, settings: Settings):
        self.tagger = tagger
        self.settings = settings
        self.policy = Rulebook(tagger.watchlist, threshold=settings.relevance_threshold)
        self.books: dict[str, StoryBook] = {}

    def _book(self, route: str) -> StoryBook | None:
        if not route:
            return None
        if route not in self.books:
            self.books[route] = StoryBook(route, window_s=self.settings.story_window_s)
        return self.books[route]

    def decisions(self, articles: Iterable[Article]) -> Iterator[tuple[Article, Decision | None, str]]:
        """(article, decision, error) per article, in input order."""
        for article, _tagged, verdict, error in self.verdicts(articles):
            yield article, verdict.decision if verdict else None, error

    def verdicts(self, articles: Iterable[Article]) -> Iterator[tuple[Article, TaggedArticle | None, Verdict | None, str]]:
        """(article, tagged, verdict, error) per article, in input order (for the evaluation)."""
        remaining = iter(articles)
        while batch := list(itertools.islice(remaining, self.settings.nlp_batch_size)):
            try:
                tagged_batch = self.tagger.tag(batch)
            except Exception:
                tagged_batch = [self._tag_one(article) for article in batch]
            for article, tagged in zip(batch, tagged_batch):
                if isinstance(tagged, str):
                    yield article, None, None, tagged
                    continue
                verdict = decide(self._book(tagged.route), tagged, self.policy)
                yield article, tagged, verdict, ""

    def _tag_one(self, article: Article):
        try:
            return self.tagger.tag([article])[0]
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"


def replay(paths: list[Path], replayer: Replayer, out: TextIO) -> ReplayStats:
    """Write one JSON line per article of ``paths`` to ``out``; return counts and timing."""
    stats = ReplayStats()
    started = time.perf_counter()
    for article, decision, error in replayer.decisions(read_articles(paths)):
        stats.articles += 1
        if decision is None:
            stats.failed += 1
            out.write(json.dumps({"id": article.id, "relevant": False, "alert": False, "error": error}) + "\n")
            continue
        stats.relevant += decision.relevant
        stats.alerts += decision.alert
        out.write(record_json(decision) + "\n")
    stats.seconds = time.perf_counter() - started
    return stats
