"""Loading YAML config files into pydantic models, with errors that name the line.

An analyst editing ``watchlist.yaml`` by hand needs "watchlist.yaml:41: topics.sanctions
.triggers.2: Input should be a valid string", not a stack trace. PyYAML's node tree keeps
the position of every value; we remember it by path and translate pydantic's error
locations back to lines.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

log = logging.getLogger("newsmon.config")

M = TypeVar("M", bound=BaseModel)
Loc = tuple[Any, ...]


class ConfigError(Exception):
    """A config file is unreadable or invalid; ``problems`` lists every problem found."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        super().__init__("\n".join(problems))


def _construct(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> Any:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            out[key] = _construct(value_node, (*loc, key), lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*loc, i), lines) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    # Resolve the scalar with SafeLoader's own rules (ints, bools, nulls) and nothing more.
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def read_yaml(path: Path) -> tuple[Any, dict[Loc, int]]:
    """Parse ``path`` safely; return the data and the line of every value by its path."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, [f"{path}: cannot read: {exc.strerror or exc}"]) from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(path, [f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from exc
    lines: dict[Loc, int] = {}
    data = _construct(node, (), lines) if node is not None else {}
    return data, lines


def _line_for(loc: Loc, lines: dict[Loc, int]) -> int | None:
    # Pydantic may point below the deepest node we saw (a missing key); walk up to its parent.
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get(())


def describe_errors(path: Path, exc: ValidationError, lines: dict[Loc, int], prefix: Loc = ()) -> list[str]:
    """One "file:line: dotted.path: message" per error; ``prefix`` is where the model sits."""
    problems = []
    for error in exc.errors():
        loc = prefix + tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-")))
        line = _line_for(loc, lines)
        where = f"{path}:{line}" if line else str(path)
        dotted = ".".join(str(part) for part in loc) or "(top level)"
        problems.append(f"{where}: {dotted}: {error['msg']}")
    return problems


def located(path: Path, loc: Loc, message: str, lines: dict[Loc, int]) -> str:
    """One "file:line: dotted.path: message" for a problem found after validation."""
    line = _line_for(loc, lines)
    where = f"{path}:{line}" if line else str(path)
    return f"{where}: {'.'.join(str(part) for part in loc)}: {message}"


def load_model(path: Path, model: type[M]) -> M:
    """Read ``path`` and validate it as ``model``; raise ConfigError naming each bad line."""
    data, lines = read_yaml(path)
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise ConfigError(path, describe_errors(path, exc, lines)) from exc


def renamed_key(data: Any, old: str, new: str, where: str) -> Any:
    """Accept a YAML key under its old name: copy it to ``new`` and log that it is deprecated
    (a ``model_validator(mode="before")`` helper). The new name wins when both are given."""
    if isinstance(data, dict) and old in data:
        data = dict(data)
        value = data.pop(old)
        data.setdefault(new, value)
        log.warning("%s: %r is deprecated, write %r instead", where, old, new)
    return data
