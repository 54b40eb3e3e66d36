"""Table state on disk: Faust's RocksDB store, with changelog offsets tied to one broker.

Story books, the delivery ledger and pending retries live in RocksDB under the data
directory, so a worker restarts from them instead of replaying whole changelogs, and the
embedded broker (memory only) no longer takes them with it when it stops.

Faust keeps, in each partition's database, the offset of the last changelog record it
wrote, and recovery reads the changelog from that offset on. That offset means nothing
to another broker: after ``newsmon run`` starts a fresh embedded broker, the changelog is
empty and its offsets start again at 0. Read as is, Faust's consistency check stops the
worker (the stored offset is past the highwater), and without the check recovery would
seek past the new changelog's first records, or skip them on a later restart.

So every stored offset carries the *broker incarnation* it was read from
(``MONITOR_BROKER_INCARNATION``, a fresh id each time ``newsmon run`` starts a broker).
An offset from another incarnation counts as no offset: the partition keeps its data and
recovery reads the new changelog from its start. Once recovered, and before any agent
runs, the partition's whole content is written to the new changelog, so the changelog is
again a complete copy (for a standby, another worker, or a disk that is lost). Production (Apache Kafka) has no
incarnation: stored offsets are Faust's own, written and read as Faust does; offsets
carried over from an embedded run are ignored the same way (see the README: moving to
Apache Kafka).
"""

from __future__ import annotations

import logging
from typing import Any

from faust.stores import STORES
from faust.stores.rocksdb import Store as RocksDBStore

log = logging.getLogger(__name__)

#: The store URL scheme the worker's tables use (``app.conf.store``).
SCHEME = "newsmon-rocksdb"
#: The table option that carries the broker incarnation to the store.
INCARNATION = "broker_incarnation"


def install() -> None:
    """Make ``newsmon-rocksdb://`` name this module's store (idempotent)."""
    STORES.aliases[SCHEME] = f"{__name__}:BrokerBoundStore"


def table_options(incarnation: str) -> dict[str, Any]:
    """Options for ``app.Table``: a fresh dict per table (Faust's store pops from it)."""
    return {INCARNATION: incarnation}


def state_table(app: Any, settings: Any, name: str) -> Any:
    """One of the worker's tables: plain JSON values keyed by string, on every partition, with
    the broker incarnation its stored offsets belong to."""
    return app.Table(
        name,
        default=None,
        partitions=settings.partitions,
        key_type=str,
        value_type=None,
        options=table_options(settings.broker_incarnation),
    )


def encode_offset(offset: int, incarnation: str) -> bytes:
    return f"{offset}@{incarnation}".encode() if incarnation else str(offset).encode()


def decode_offset(raw: bytes | None, incarnation: str) -> int | None:
    """The stored offset if it was read from this broker incarnation, else None."""
    if raw is None:
        return None
    offset, _, written_for = raw.decode().partition("@")
    return int(offset) if written_for == incarnation else None


class BrokerBoundStore(RocksDBStore):
    """Faust's RocksDB store whose persisted changelog offsets name their broker."""

    def __init__(self, url, app, table, *, options=None, **kwargs: Any) -> None:
        options = dict(options or {})
        self.incarnation = str(options.pop(INCARNATION, "") or "")
        #: Changelog partitions whose stored offset was another broker's: to write out again.
        self.republish: set = set()
        super().__init__(url, app, table, options=options, **kwargs)

    def persisted_offset(self, tp) -> int | None:
        raw = self._db_for_partition(tp.partition).get(self.offset_key)
        offset = decode_offset(raw, self.incarnation)
        if raw is not None and offset is None:
            self.republish.add(tp)
        return offset

    async def on_recovery_completed(self, active_tps, standby_tps) -> None:
        await super().on_recovery_completed(active_tps, standby_tps)
        # Recovery awaits this before it resumes the agents' streams: nothing written
        # below can overwrite a newer value in the changelog.
        for tp in sorted(self.republish & set(active_tps)):
            await self._republish(tp)
            self.republish.discard(tp)

    async def _republish(self, tp) -> None:
        producer = self.app.producer
        last = None
        count = 0
        for key, value in self._visible_items(self._db_for_partition(tp.partition)):
            last = await producer.send(tp.topic, key, value, tp.partition, None, None)
            count += 1
        if last is not None:
            await producer.flush()
            self.set_persisted_offset(tp, (await last).offset)
        log.info(
            "table %s partition %d: %d entries kept from disk, written to the new changelog", self.table_name, tp.partition, count
        )

    def set_persisted_offset(self, tp, offset: int) -> None:
        # One put: the offset and its incarnation can never be read apart after a crash.
        self._db_for_partition(tp.partition).put(self.offset_key, encode_offset(offset, self.incarnation))
