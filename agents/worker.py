"""The Faust worker process, with a ready line that means the pipeline can take articles."""

from __future__ import annotations

import sys
import time

import faust

from agents.context import WorkerContext
from monitor.runtime.health import WORKER_READY


class NewsmonWorker(faust.Worker):
    """A faust Worker that warms the tag pool up and announces readiness on stdout."""

    def __init__(self, app: faust.App, ctx: WorkerContext, **kwargs):
        super().__init__(app, **kwargs)
        self.ctx = ctx
        self._began = time.monotonic()

    async def on_first_start(self) -> None:
        # Load spaCy in the pool while the consumer group forms.
        self.ctx.tagpool.start()
        await super().on_first_start()

    async def on_startup_finished(self) -> None:
        await super().on_startup_finished()
        await self.ctx.tagpool.wait_ready()
        self.ctx.metrics.health.set_ready()
        # faust redirects sys.stdout into its logger; the supervisor reads the real one.
        out = sys.__stdout__ or sys.stdout
        out.write(f"{WORKER_READY} in {time.monotonic() - self._began:.1f} s\n")
        out.flush()
