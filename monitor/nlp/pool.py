"""Runs the Tagger off the event loop, in worker processes that each load spaCy once.

The Faust worker's event loop must keep heartbeating and fetching while spaCy works, so
each micro-batch is handed to a process pool. Records cross the process boundary as the
same JSON bytes they have on the topic (cheap, and nothing spaCy-specific is pickled).

A poison article — one that makes spaCy raise, or even kills the process — must not take
its batch with it: a failed batch is retried one article at a time, and the article that
still fails is returned as a failure for the caller to dead-letter.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from monitor.models import Article, TaggedArticle
from monitor.settings import Settings
from monitor.watchlist import Watchlist

if TYPE_CHECKING:
    from monitor.nlp.tag import Tagger

log = logging.getLogger(__name__)

_TAGGER: Tagger | None = None


def make_tagger(settings: Settings, watchlist: Watchlist) -> Tagger:
    """The one way a Tagger is built, in the worker, in replay and in benchmarks."""
    # Imported here: the worker's main process only hands bytes to the pool and never needs
    # spaCy, whose import alone is 50 MiB of its memory.
    from monitor.nlp.cascade import FirstPass
    from monitor.nlp.claims import ClaimExtractor
    from monitor.nlp.pipeline import build_nlp
    from monitor.nlp.tag import Tagger

    nlp = build_nlp(settings.spacy_model, watchlist)
    return Tagger(
        nlp,
        watchlist,
        max_chars=settings.max_text_chars,
        batch_size=settings.nlp_batch_size,
        claim_extractor=ClaimExtractor(watchlist),
        first_pass=FirstPass(nlp, watchlist) if settings.first_pass else None,
        focus=settings.focus_lines,
    )


def _init_process(settings: Settings, watchlist: Watchlist) -> None:
    global _TAGGER
    _TAGGER = make_tagger(settings, watchlist)


def _init_child(settings: Settings, watchlist: Watchlist, parent: int) -> None:
    """Pool process initialiser: exit when the worker that spawned us is gone.

    A pool process blocks on its task queue, whose write end it holds itself, so it never
    sees its worker die: after a kill -9 it would live on holding spaCy (~180 MB) and the
    worker's stdout. A thread that notices the re-parenting ends it.
    """
    threading.Thread(target=_exit_when_orphaned, args=(parent,), name="orphan-watch", daemon=True).start()
    _init_process(settings, watchlist)


def _exit_when_orphaned(parent: int, interval_s: float = 0.5) -> None:
    while os.getppid() == parent:
        time.sleep(interval_s)
    os._exit(1)


#: The pool's answer for one article: (True, (route, tagged bytes)) or (False, error).
PoolReply = tuple[bool, tuple[str, bytes] | str]


def _tag_payloads(payloads: list[bytes]) -> list[PoolReply]:
    """In the pool: tag serialised articles; (True, (route, tagged bytes)) or (False, error)."""
    assert _TAGGER is not None, "tag pool process was not initialised"
    articles = [Article.loads(p, serializer="json") for p in payloads]
    try:
        return [(True, _encoded(t)) for t in _TAGGER.tag(articles)]
    except Exception:
        if len(articles) == 1:
            raise
    results: list[PoolReply] = []
    for article in articles:
        try:
            results.append((True, _encoded(_TAGGER.tag([article])[0])))
        except Exception as exc:
            results.append((False, f"{type(exc).__name__}: {exc}"))
    return results


def _encoded(tagged: TaggedArticle) -> tuple[str, bytes]:
    # The route comes back beside the bytes so the worker can key the record without decoding it.
    return tagged.route, tagged.dumps(serializer="json")


@dataclass(frozen=True)
class TagResult:
    """One article's outcome. ``payload`` is the tagged article as JSON, ready to produce as it
    is: the worker never decodes it (``tagged`` does, for callers that want the record)."""

    article: Article
    payload: bytes | None
    route: str = ""
    error: str = ""

    @cached_property
    def tagged(self) -> TaggedArticle | None:
        return None if self.payload is None else TaggedArticle.loads(self.payload, serializer="json")


class TagPool:
    """Tags micro-batches in ``processes`` child processes (0: one background thread)."""

    def __init__(self, settings: Settings, watchlist: Watchlist):
        self.settings = settings
        self.watchlist = watchlist
        self._executor: Executor | None = None
        self._warmup: Future | None = None

    def start(self) -> None:
        """Create the pool and start loading spaCy in it; returns at once."""
        if self._executor is not None:
            return
        initargs = (self.settings, self.watchlist)
        if self.settings.nlp_processes == 0:
            self._executor = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="tagger", initializer=_init_process, initargs=initargs
            )
        else:
            # spawn, not fork: the parent holds aiokafka threads and sockets a fork would copy.
            self._executor = ProcessPoolExecutor(
                max_workers=self.settings.nlp_processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_child,
                initargs=(*initargs, os.getpid()),
            )
        # Load the model while the consumer group forms, not on the first article.
        self._warmup = self._executor.submit(_tag_payloads, [])

    async def wait_ready(self) -> None:
        """Wait until the pool has loaded spaCy (raises if loading failed)."""
        self.start()
        assert self._warmup is not None
        await asyncio.wrap_future(self._warmup)

    def stop(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def _restart(self) -> None:
        log.warning("tag pool process died; starting a new one")
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        self.start()

    async def tag(self, articles: Sequence[Article], payloads: Sequence[bytes] | None = None) -> list[TagResult]:
        """Tag a micro-batch without blocking the event loop; never raises for one article.
        ``payloads``: the articles as JSON if the caller has them (the bytes read from the topic),
        so they are not encoded again."""
        if not articles:
            return []
        self.start()
        loop = asyncio.get_running_loop()
        payloads = list(payloads) if payloads is not None else [a.dumps(serializer="json") for a in articles]
        try:
            outcomes = await loop.run_in_executor(self._executor, _tag_payloads, payloads)
        except BrokenProcessPool:
            self._restart()
            outcomes = [await self._tag_alone(loop, payload) for payload in payloads]
        except Exception as exc:
            outcomes = [(False, f"{type(exc).__name__}: {exc}")]
        results = []
        for article, (ok, value) in zip(articles, outcomes):
            if ok and isinstance(value, tuple):
                results.append(TagResult(article, value[1], route=value[0]))
            else:
                results.append(TagResult(article, None, error=str(value)))
        return results

    async def _tag_alone(self, loop: asyncio.AbstractEventLoop, payload: bytes) -> PoolReply:
        try:
            return (await loop.run_in_executor(self._executor, _tag_payloads, [payload]))[0]
        except BrokenProcessPool:
            self._restart()
            return (False, "the tagging process died on this article (crash or out of memory)")
        except Exception as exc:
            return (False, f"{type(exc).__name__}: {exc}")
