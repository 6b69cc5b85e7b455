"""What every source reader shares: the build context, the report, term and value helpers."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyoxigraph as ox

from kg.errors import InputError
from kg.vocab import XSD, Vocabulary

Triple = tuple[ox.NamedNode, ox.NamedNode, ox.NamedNode | ox.Literal]
Triples = Iterator[Triple]

_IDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]*$")
_CODE = re.compile(r"^\d{6}$")


@dataclass
class Skipped:
    path: str
    line: int | None
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "line": self.line, "reason": self.reason}


@dataclass
class BuildReport:
    """What a build did: files, triples per graph, rows skipped or approximated and why."""

    graphs: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[Skipped] = field(default_factory=list)
    note_counts: Counter[str] = field(default_factory=Counter)
    class_counts: dict[str, int] = field(default_factory=dict)
    total_triples: int = 0
    drug_counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    violations: int = 0  # SHACL violations (kg.validate.gate); > 0 only with --allow-invalid
    files: dict[str, str] = field(default_factory=dict)  # graph → source file (not in as_dict)

    def skip(self, path: Path | str, line: int | None, reason: str) -> None:
        self.skipped.append(Skipped(str(path), line, reason))

    def note(self, path: Path | str, line: int | None, reason: str, kind: str) -> None:
        """Record a row that was kept but placed approximately (kept to 50 per kind)."""
        self.note_counts[kind] += 1
        if self.note_counts[kind] <= 50:
            self.notes.append(Skipped(str(path), line, reason))

    def as_dict(self) -> dict[str, object]:
        return {
            "total_triples": self.total_triples,
            "graphs": self.graphs,
            "class_counts": self.class_counts,
            "drug_counts": self.drug_counts,
            "skipped": [s.as_dict() for s in self.skipped],
            "notes": [s.as_dict() for s in self.notes],
            "note_counts": dict(self.note_counts),
            "seconds": round(self.seconds, 2),
            "violations": self.violations,
        }


@dataclass
class RegionInfo:
    code: str
    name: str
    level: str
    parent: str | None
    pooling: bool
    alt_names: tuple[str, ...] = ()


@dataclass
class RegionIndex:
    """Regions read so far: codes, ancestry, pooling regions, names for address placement."""

    regions: dict[str, RegionInfo] = field(default_factory=dict)

    def add(self, info: RegionInfo) -> None:
        self.regions[info.code] = info

    def __contains__(self, code: str) -> bool:
        return code in self.regions

    def chain(self, code: str) -> list[RegionInfo]:
        """The region and its ancestors, nearest first."""
        out: list[RegionInfo] = []
        seen: set[str] = set()
        cur: str | None = code
        while cur and cur in self.regions and cur not in seen:
            seen.add(cur)
            info = self.regions[cur]
            out.append(info)
            cur = info.parent
        return out

    def pooling_of(self, code: str) -> str | None:
        return next((r.code for r in self.chain(code) if r.pooling), None)

    def province_of(self, code: str) -> str | None:
        return next((r.code for r in self.chain(code) if r.level == "province"), None)

    def children(self) -> dict[str | None, list[RegionInfo]]:
        out: dict[str | None, list[RegionInfo]] = {}
        for r in self.regions.values():
            out.setdefault(r.parent, []).append(r)
        return out


@dataclass
class Context:
    """State shared across the files of one build."""

    vocab: Vocabulary
    report: BuildReport
    regions: RegionIndex = field(default_factory=RegionIndex)
    documents: dict[str, str] = field(default_factory=dict)  # id → where defined
    statements: dict[str, str] = field(default_factory=dict)  # id → where defined
    statement_refs: list[tuple[str, str, int | None]] = field(default_factory=list)

    def concept(self, scheme: str, value: object, path: Path, line: int | None) -> ox.NamedNode:
        """The concept of a notation in a scheme, or an error listing the accepted values."""
        iri = self.vocab.concept(scheme, str(value).strip())
        if iri is None:
            accepted = ", ".join(self.vocab.notations(scheme))
            raise InputError(
                path, line, f"unknown {scheme} '{value}' (expected one of: {accepted})"
            )
        return ox.NamedNode(iri)


# ------------------------------------------------------------------ literals


def lit(value: str, lang: str | None = None) -> ox.Literal:
    return ox.Literal(value, language=lang) if lang else ox.Literal(value)


def date_lit(value: dt.date) -> ox.Literal:
    return ox.Literal(value.isoformat(), datatype=XSD.date)


def decimal_lit(value: Decimal) -> ox.Literal:
    text = format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if "." not in text:
        text += ".0"
    return ox.Literal(text, datatype=XSD.decimal)


def integer_lit(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=XSD.integer)


def bool_lit(value: bool) -> ox.Literal:
    return ox.Literal("true" if value else "false", datatype=XSD.boolean)


# ------------------------------------------------------------------ parsing values


def as_date(value: object) -> dt.date:
    """A date from a YAML/CSV value (a date, a datetime or YYYY-MM-DD); ValueError if not."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip())


def parse_date(value: object, path: Path, line: int | None, what: str = "date") -> dt.date:
    try:
        return as_date(value)
    except ValueError:
        raise InputError(path, line, f"{what} '{value}' is not a date (YYYY-MM-DD)") from None


def parse_interval(
    value: str, path: Path, line: int | None, what: str
) -> tuple[dt.date, dt.date | None]:
    """An ISO 8601 interval ``FROM/UNTIL`` (``FROM/`` or ``FROM`` is open-ended)."""
    start, _, end = value.strip().partition("/")
    first = parse_date(start, path, line, what)
    last = parse_date(end, path, line, what) if end.strip() else None
    if last is not None and last < first:
        raise InputError(path, line, f"{what} '{value}' ends before it starts")
    return first, last


def parse_decimal(value: object, path: Path, line: int | None, what: str) -> Decimal:
    if isinstance(value, bool):
        raise InputError(path, line, f"{what} must be a number, not {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise InputError(path, line, f"{what} must be a number, not '{value}'") from None
    if not number.is_finite():
        raise InputError(path, line, f"{what} must be a finite number, not '{value}'")
    return number


def parse_int(value: object, path: Path, line: int | None, what: str) -> int:
    if isinstance(value, bool):
        raise InputError(path, line, f"{what} must be an integer, not {value!r}")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"-?\d+", text):
        raise InputError(path, line, f"{what} must be an integer, not '{value}'")
    return int(text)


def parse_bool(value: object, path: Path, line: int | None, what: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"yes", "true", "1", "y"}:
        return True
    if text in {"no", "false", "0", "n"}:
        return False
    raise InputError(path, line, f"{what} must be yes/no or true/false, not '{value}'")


def check_ident(value: object, path: Path, line: int | None, what: str = "id") -> str:
    text = str(value).strip() if value is not None else ""
    if not _IDENT.match(text):
        raise InputError(
            path, line, f"{what} '{value}' must be letters, digits, '.', '_', '~' or '-'"
        )
    return text


def check_code(value: object, path: Path, line: int | None, what: str = "region code") -> str:
    text = str(value).strip() if value is not None else ""
    if not _CODE.match(text):
        raise InputError(path, line, f"{what} '{value}' is not a six-digit code")
    return text
