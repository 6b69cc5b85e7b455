"""YAML that remembers where each mapping and sequence starts, for errors with line numbers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
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


class NumberText(str):
    """A plain (unquoted) scalar that YAML or JSON reads as a number, kept as written.

    Read by :func:`load_yaml` with ``number_text=True`` (claims, whose amounts must not change
    on the way in): ``32.52``, ``1e2`` (a JSON number), but also the YAML 1.1 forms ``012``
    (octal 10), ``1:30`` (sexagesimal 90) and ``0x10`` (16). ``read_as`` is what a YAML 1.1
    reader makes of it, or None when it cannot (an integer of more than 4,300 digits).
    """

    read_as: Any = None


# Where construction is (keys and indexes from the top), for errors raised inside it.
Place = list[Any]


class _Loader(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.at: Place = []


class _NumberTextLoader(_Loader):
    pass


class _Placed(Exception):
    """An error at a line of the file, inside the node at ``at``."""

    def __init__(self, message: str, line: int, at: Place) -> None:
        self.message, self.line, self.at = message, line, list(at)


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise _Placed("a mapping key must be a scalar", line, loader.at)
        key = str(key)
        if key in out:
            raise _Placed(f"duplicate key '{key}'", line, loader.at)
        loader.at.append(key)
        out[key] = loader.construct_object(value_node, deep=True)
        loader.at.pop()
        out.key_lines[key] = line
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList()
    for index, child in enumerate(node.value):
        loader.at.append(index)
        out.append(loader.construct_object(child, deep=True))
        loader.at.pop()
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


def _timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError as exc:  # 2025-13-01: the pattern matched, the calendar did not
        raise _Placed(
            f"invalid date '{node.value}': {exc}", node.start_mark.line + 1, loader.at
        ) from None


def _int(loader: _Loader, node: yaml.ScalarNode) -> Any:
    try:
        return loader.construct_yaml_int(node)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        raise _Placed(
            f"the number of {len(node.value)} characters is too large / 数值过大",
            node.start_mark.line + 1,
            loader.at,
        ) from None


def _number_text(loader: _Loader, node: yaml.ScalarNode) -> NumberText:
    out = NumberText(node.value)
    construct = loader.construct_yaml_int if node.tag.endswith(":int") else None
    try:
        out.read_as = (construct or loader.construct_yaml_float)(node)
    except ValueError:
        out.read_as = None
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)
_Loader.add_constructor("tag:yaml.org,2002:int", _int)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)
_NumberTextLoader.add_constructor("tag:yaml.org,2002:int", _number_text)
_NumberTextLoader.add_constructor("tag:yaml.org,2002:float", _number_text)
# A JSON number YAML 1.1 takes for a string (1e2, 1.5E3: its floats need a point and a signed
# exponent) is a number too: claim files may be JSON, read by this loader for their lines.
_NumberTextLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?[eE][-+]?[0-9]+$"),
    list("-0123456789"),
)


def load_yaml(
    path: Path,
    text: str | None = None,
    *,
    number_text: bool = False,
    where: Callable[[Place], str] | None = None,
) -> Any:
    """Parse a YAML file; syntax errors and duplicate keys become :class:`InputError`.

    Args:
        path: the file (named in errors).
        text: its text, when already read.
        number_text: plain scalars that are numbers are read as :class:`NumberText` (as
            written) instead of ``int`` or ``float``.
        where: words that place an error raised inside a node (``item 2 / 第2项: ``), given
            the keys and indexes that lead to it.
    """
    try:
        source = text if text is not None else path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc) from None
    try:
        return yaml.load(source, Loader=_NumberTextLoader if number_text else _Loader)
    except _Placed as exc:
        prefix = where(exc.at) if where is not None else ""
        raise InputError(path, exc.line, prefix + exc.message) from None
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
