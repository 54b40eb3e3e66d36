"""The worker's consumer asks the broker to hold a fetch 100 ms at most, not Faust's 1.5 s."""

import asyncio

from agents import fetch_wait
from agents.app import create_app


def test_the_worker_consumer_waits_at_most_fetch_wait_ms(broker_settings):
    app, _ctx = create_app(broker_settings)

    async def build():
        # The consumer Faust's worker would start, built (not started) by its own factory.
        thread = app.consumer._thread
        return thread._create_worker_consumer(app.consumer.transport)

    consumer = asyncio.run(build())
    assert consumer._fetch_max_wait_ms == fetch_wait.FETCH_WAIT_MS == 100
