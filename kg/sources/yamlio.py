"""YAML that remembers where each mapping and sequence starts, for errors with line numbers."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from kg.errors import InputError
from kg.sources.tables import not_utf8


class LineDict(dict):  # type: ignore[type-arg]
    """A mapping with the 1-based line of itself (``line``) and of each key (``key_lines``)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):  # type: ignore[type-arg]
    """A sequence with the 1-based line of itself and of each item."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise InputError(None, key_node.start_mark.line + 1, "a mapping key must be a scalar")
        key = str(key)
        if key in out:
            raise _Duplicate(key, key_node.start_mark.line + 1)
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


class _Duplicate(Exception):
    def __init__(self, key: str, line: int) -> None:
        self.key, self.line = key, line


def _timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError as exc:  # 2025-13-01: the pattern matched, the calendar did not
        raise InputError(
            None, node.start_mark.line + 1, f"invalid date '{node.value}': {exc}"
        ) from None


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def load_yaml(path: Path, text: str | None = None) -> Any:
    """Parse a YAML file; syntax errors and duplicate keys become :class:`InputError`."""
    try:
        source = text if text is not None else path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc) from None
    try:
        return yaml.load(source, Loader=_Loader)
    except _Duplicate as exc:
        raise InputError(path, exc.line, f"duplicate key '{exc.key}'") from None
    except InputError as exc:
        raise InputError(path, exc.line, exc.message) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        message = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise InputError(path, line, f"YAML syntax error: {message}", column) from None
    except yaml.YAMLError as exc:
        raise InputError(path, None, f"YAML error: {exc}") from None


# ------------------------------------------------------------------ JSON Schema checks


@cache
def _schema_validator(schema: Path) -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(json.loads(schema.read_text(encoding="utf-8")))


def schema_errors(schema: Path, data: Any) -> list[Any]:
    """The JSON Schema errors of loaded YAML (dates as ISO text), ordered by their path."""
    errors = _schema_validator(schema).iter_errors(jsonable(data))
    return sorted(
        errors, key=lambda e: [(0, p, "") if isinstance(p, int) else (1, 0, p) for p in e.path]
    )


def line_at(data: Any, path: Iterable[Any]) -> int | None:
    """The line of the node at a JSON-schema error path (the nearest known line)."""
    line = getattr(data, "line", None)
    node = data
    for step in path:
        in_dict = isinstance(node, LineDict) and isinstance(step, str) and step in node
        in_list = isinstance(node, LineList) and isinstance(step, int) and step < len(node)
        if not (in_dict or in_list):
            break
        line = node.line_of(step)
        node = node[step]
        line = getattr(node, "line", None) or line
    return line


def jsonable(data: Any) -> Any:
    """Loaded YAML with dates as ISO text, as a JSON Schema sees it."""
    if isinstance(data, dict):
        return {k: jsonable(v) for k, v in data.items()}
    if isinstance(data, list):
        return [jsonable(v) for v in data]
    if hasattr(data, "isoformat"):
        return data.isoformat()[:10]
    return data
