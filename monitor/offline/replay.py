"""``newsmon replay``: the worker's tag → detect logic, in-process, over article files.

Prints one JSON object per input article, in input order: the ``Decision`` record, which
is also what the running daemon writes to its decisions topic. Every quality measurement
goes through this contract (documented in the README).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterable, Iterator
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

    def decisions(self, articles: Iterable[Article]) -> Iterator[tuple[Article, Decision | None, str]]:
        """(article, decision, error) per article, in input order."""
        for article, _tagged, verdict, error in self.verdicts(articles):
            yield article, verdict.decision if verdict else None, error

    def verdicts(self, articles: Iterable[Article]) -> Iterator[tuple[Article, TaggedArticle | None, Verdict | None, str]]:
        """(article, tagged, verdict, error) per article, in input order (for the evaluation).

        An article that fails at any stage comes back with its error and no verdict; the
        articles after it go on.
        """
        remaining = iter(articles)
        while batch := list(itertools.islice(remaining, self.settings.nlp_batch_size)):
            for article, tagged in zip(batch, self.tag(batch)):
                if isinstance(tagged, str):
                    yield article, None, None, tagged
                    continue
                try:
                    verdict = self._decide(tagged)
                except Exception as exc:
                    yield article, tagged, None, failure(exc, "decide")
                    continue
                yield article, tagged, verdict, ""

    def tag(self, batch: list[Article]) -> list[TaggedArticle | str]:
        """Tagged articles of one micro-batch, or the error of each that failed."""
        try:
            return list(self.tagger.tag(batch))
        except Exception:
            # One bad article must not cost its batch: tag each alone to find it.
            return [self._tag_one(article) for article in batch]

    def _tag_one(self, article: Article) -> TaggedArticle | str:
        try:
            return self.tagger.tag([article])[0]
        except Exception as exc:
            return failure(exc, "tag")

    def _decide(self, tagged: TaggedArticle) -> Verdict:
        """``decide`` on a copy of the route's story book, kept only when it succeeded.

        A failure half-way (the article placed in a story, its alert not yet recorded) must
        not leave a half-updated story behind for the articles after it: the daemon, too,
        writes a route's table value only after ``decide`` returned.
        """
        route = tagged.route
        if not route:
            return decide(None, tagged, self.policy)
        kept = self.books.get(route)
        book = kept.copy() if kept else StoryBook(route, window_s=self.settings.story_window_s)
        verdict = decide(book, tagged, self.policy)
        self.books[route] = book
        return verdict


#: Which finer stage a newsmon module belongs to. The daemon has two stages, tag (which runs
#: claim extraction on the same parse) and detect (rules, stories, novelty); the error record
#: names the finer one so the failing part is found without a traceback, and the library need
#: not wrap the exceptions the daemon dead-letters.
STAGE_OF_MODULE = {
    "monitor.nlp.claims": "claims",
    "monitor.relevance.stories": "stories",
    "monitor.relevance.similarity": "stories",
}


def failure(exc: BaseException, stage: str) -> str:
    """The error of an error record: ``<stage>: <ExceptionType>: <message>``.

    ``stage`` is the call that failed (tag or decide), refined by the innermost newsmon module
    on the traceback (claims inside tag, stories inside decide).
    """
    tb = exc.__traceback__
    while tb is not None:
        stage = STAGE_OF_MODULE.get(tb.tb_frame.f_globals.get("__name__", ""), stage)
        tb = tb.tb_next
    return f"{stage}: {type(exc).__name__}: {exc}"


def replay(paths: list[Path], replayer: Replayer, out: TextIO, progress: Callable[[], object] | None = None) -> ReplayStats:
    """Write one JSON line per article of ``paths`` to ``out``; return counts and timing.

    ``progress`` is called once per article (the CLI's progress bar)."""
    stats = ReplayStats()
    started = time.perf_counter()
    for article, decision, error in replayer.decisions(read_articles(paths)):
        stats.articles += 1
        if progress is not None:
            progress()
        if decision is None:
            stats.failed += 1
            out.write(json.dumps({"id": article.id, "relevant": False, "alert": False, "error": error}) + "\n")
            continue
        stats.relevant += decision.relevant
        stats.alerts += decision.alert
        out.write(record_json(decision) + "\n")
    stats.seconds = time.perf_counter() - started
    return stats
