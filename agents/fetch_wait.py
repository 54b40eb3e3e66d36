"""How long a fetch may wait at the broker for records, for faust-streaming 0.15's worker consumer.

Faust fixes the worker consumer's ``fetch_max_wait_ms`` at 1,500. Apache Kafka answers a waiting
fetch as soon as a record arrives, so the figure only bounds idle round trips there; Tansu (the
embedded broker) does not, so each topic a record crosses (articles -> tag, tagged -> detect)
waited for the fetch in flight: 380 ms at the median and up to 760 ms per hop, measured on
loopback, against 12 ms with a 100 ms wait. Ten idle fetches a second per worker cost nothing.
"""

from __future__ import annotations

import functools

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

FETCH_WAIT_MS = 100

_installed = False


def install() -> None:
    """Wrap Faust's worker-consumer factory once per process so its consumer waits less."""
    global _installed
    if _installed:
        return
    original = AIOKafkaConsumerThread._create_worker_consumer

    @functools.wraps(original)
    def create(self, transport):
        consumer = original(self, transport)
        # Read by aiokafka when the consumer starts (its fetcher is built in start()), which
        # Faust does after this factory returns.
        consumer._fetch_max_wait_ms = FETCH_WAIT_MS
        return consumer

    AIOKafkaConsumerThread._create_worker_consumer = create  # type: ignore[method-assign]
    _installed = True
