"""CSV tables: header detection and rows with their line numbers."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from kg.errors import InputError

Row = dict[str, str]


def read_header(path: Path) -> list[str]:
    """The header of a CSV file (empty when the file is empty); an error if not UTF-8."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            return [h.strip() for h in next(csv.reader(f), [])]
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc) from None


def not_utf8(path: Path, exc: UnicodeDecodeError) -> InputError:
    """The error for a file in another encoding (GBK, …), at the line of its first bad byte."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
        line = None
    except UnicodeDecodeError as found:
        line = data[: found.start].count(b"\n") + 1
    return InputError(path, line, f"not UTF-8 text ({exc.reason})")


def rows(path: Path, required: set[str], known: set[str]) -> Iterator[tuple[int, Row]]:
    """Yield ``(line, row)``; rows are stripped; missing, unknown or extra columns are errors."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            header = [h.strip() for h in next(reader, [])]
            missing = sorted(required - set(header))
            if missing:
                raise InputError(path, 1, f"missing column(s): {', '.join(missing)}")
            unknown = [h for h in header if h not in known]
            if unknown:
                raise InputError(
                    path,
                    1,
                    f"unknown column(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})",
                )
            ended = reader.line_num
            for values in reader:
                line, ended = ended + 1, reader.line_num  # a quoted field may span lines
                if not values or all(not v.strip() for v in values):
                    continue
                if len(values) != len(header):
                    spans = f" (a quoted field runs to line {ended})" if ended > line else ""
                    raise InputError(
                        path, line, f"expected {len(header)} fields, found {len(values)}{spans}"
                    )
                yield line, {h: v.strip() for h, v in zip(header, values, strict=True)}
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc) from None
    except csv.Error as exc:
        raise InputError(path, None, f"CSV error: {exc}") from None


def split(value: str) -> list[str]:
    """A multi-valued cell (``a;b;c``)."""
    return [v.strip() for v in value.split(";") if v.strip()]
