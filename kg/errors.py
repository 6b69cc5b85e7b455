"""Errors of yibao-kg: one root, caught once by the command line.

::

    KgError                      exit 2 unless stated
    ├── InputError               a user file is wrong: path, line, column, message
    ├── QueryError               a query is malformed or lacks parameters
    ├── StoreError               no store, a locked store, a failed publish
    ├── LookupFailed             a region, institution or item name matches nothing or too much
    └── ValidationFailed         data violates the shapes (exit 1)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path


class KgError(Exception):
    """Root of every error the command line reports without a traceback."""

    exit_code = 2

    def render(self) -> str:
        return str(self)


@dataclass
class InputError(KgError):
    """A source or input file is wrong at a known place."""

    path: str | Path | None
    line: int | None
    message: str
    column: int | None = None

    def __post_init__(self) -> None:
        super().__init__(self.render())

    def render(self) -> str:
        where = str(self.path) if self.path is not None else "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"

    __str__ = render


class QueryError(KgError):
    """A query cannot be run: syntax, unknown name, missing or bad parameter."""


class StoreError(KgError):
    """The store is missing, locked, or cannot be published."""


@dataclass
class LookupFailed(KgError):
    """A name matched no entity or several; ``candidates`` are close matches to show."""

    what: str
    query: str
    candidates: list[str] = field(default_factory=list)
    ambiguous: bool = False

    def __post_init__(self) -> None:
        super().__init__(self.render())

    def render(self) -> str:
        if self.ambiguous:
            head = f"{self.what} '{self.query}' is ambiguous / 有歧义"
            tail = "matches / 匹配"
        else:
            head = f"unknown {self.what} '{self.query}' / 未找到"
            tail = "did you mean / 您是否要找"
        if self.candidates:
            return f"{head}; {tail}: " + ", ".join(self.candidates)
        return head

    __str__ = render


class ValidationFailed(KgError):
    """The data does not conform to the shapes."""

    exit_code = 1


def did_you_mean(text: str, accepted: Iterable[str] | Mapping[str, str]) -> str:
    """``; did you mean / 您是否要找: …`` with the close matches, or nothing.

    ``accepted`` may map each word to how it is shown (a label to its code).

    >>> did_you_mean("item", ["items", "name"])
    '; did you mean / 您是否要找: items'
    >>> did_you_mean("门诊慢特", {"门诊慢特病": "chronic-special-outpatient", "住院": "inpatient"})
    '; did you mean / 您是否要找: chronic-special-outpatient'
    """
    shown = accepted if isinstance(accepted, Mapping) else {w: w for w in accepted}
    close = difflib.get_close_matches(text, list(shown), n=3, cutoff=0.6)
    named = list(dict.fromkeys(shown[w] for w in close))
    return f"; did you mean / 您是否要找: {', '.join(named)}" if named else ""
