"""What the agents share: settings, watchlist, sinks, metrics and the tag pool.

Built once when the app is created and handed to each agent module's ``register``;
agents read nothing global.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.nlp.pool import TagPool
from monitor.runtime.kafka_topics import KafkaTopicNames
from monitor.runtime.metrics import Metrics
from monitor.settings import Settings
from monitor.sinks import Sink
from monitor.watchlist import Watchlist


@dataclass
class WorkerContext:
    settings: Settings
    watchlist: Watchlist
    sinks: list[Sink]
    metrics: Metrics
    names: KafkaTopicNames
    tagpool: TagPool = field(init=False)

    def __post_init__(self) -> None:
        self.tagpool = TagPool(self.settings, self.watchlist)
