"""A stand-in for a Faust table on its RocksDB store, partitions included.

The plain dicts of the delivery tests hide what makes the real table differ: the store
(``faust/stores/rocksdb.py``, faust-streaming 0.15) keeps one database per partition.
Inside an event, a read or a membership test sees the event's partition only and a write
goes there; a listing walks every partition; a deletion removes the key from the partition
it was last written or found in (every partition if none) and sends the tombstone to the
event's partition's changelog. ``current`` plays the event's partition.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any


class PartitionedTable(MutableMapping):
    def __init__(self, partitions: int):
        self.parts: dict[int, dict[str, Any]] = {p: {} for p in range(partitions)}
        self.current = 0
        self._key_index: dict[str, int] = {}
        #: (changelog partition, key, value or None for a tombstone), in order.
        self.changelog: list[tuple[int, str, Any]] = []

    def __getitem__(self, key: str) -> Any:
        value = self.parts[self.current][key]
        self._key_index[key] = self.current
        return value

    def __contains__(self, key: object) -> bool:
        return key in self.parts[self.current]

    def __setitem__(self, key: str, value: Any) -> None:
        self.parts[self.current][key] = value
        self._key_index[key] = self.current
        self.changelog.append((self.current, key, value))

    def __delitem__(self, key: str) -> None:
        where = [self._key_index[key]] if key in self._key_index else list(self.parts)
        for partition in where:
            self.parts[partition].pop(key, None)
        self.changelog.append((self.current, key, None))

    def __iter__(self) -> Iterator[str]:
        for part in self.parts.values():
            yield from list(part)

    def items(self) -> list[tuple[str, Any]]:  # type: ignore[override]  # a listing walks every partition
        return [(key, value) for part in self.parts.values() for key, value in part.items()]

    def values(self) -> list[Any]:  # type: ignore[override]  # as items()
        return [value for part in self.parts.values() for value in part.values()]

    def __len__(self) -> int:
        return sum(len(part) for part in self.parts.values())

    def holders(self, key: str) -> set[int]:
        """The partitions whose changelog still ends with a value for ``key`` (what recovery
        would bring back)."""
        last: dict[int, Any] = {}
        for partition, name, value in self.changelog:
            if name == key:
                last[partition] = value
        return {partition for partition, value in last.items() if value is not None}
