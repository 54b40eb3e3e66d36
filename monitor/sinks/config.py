"""``config/sinks.yaml``: the list of sink instances, each validated by its type's model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from monitor.configfile import ConfigError, describe_errors, read_yaml
from monitor.sinks.base import SINK_TYPES, Sink, build_sink


def load_sinks(path: Path, data_dir: Path | None = None) -> list[Sink]:
    """Build every configured sink; ConfigError names each bad line.

    Relative file paths in sink options resolve against ``data_dir``.
    """
    data, lines = read_yaml(path)
    entries: list[Any] = (data or {}).get("sinks", []) if isinstance(data, dict) else []
    if not isinstance(entries, list):
        raise ConfigError(path, [f"{path}:{lines.get(('sinks',), 1)}: sinks: must be a list"])
    problems: list[str] = []
    sinks: list[Sink] = []
    for index, entry in enumerate(entries):
        loc = ("sinks", index)
        kind = entry.get("type") if isinstance(entry, dict) else None
        if kind not in SINK_TYPES:
            known = ", ".join(sorted(SINK_TYPES))
            problems.append(f"{path}:{lines.get(loc, 1)}: sinks.{index}.type: unknown sink type {kind!r} (known: {known})")
            continue
        try:
            sinks.append(build_sink(entry, data_dir))
        except ValidationError as exc:
            problems += describe_errors(path, exc, lines, prefix=loc)
    names = [sink.name for sink in sinks]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"{path}: sinks: two sinks are named {name!r}; give each a unique name")
    if problems:
        raise ConfigError(path, problems)
    return sinks
