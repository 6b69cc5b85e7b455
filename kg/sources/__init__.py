"""Source files → triples: discovery by name and header, one reader per format.

Pipeline stage: the first half of ``yibao build``. Each reader yields ``(s, p, o)``
triples for one file; the builder puts them into the file's named graph. Formats are
documented in docs/data-formats.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg import resources
from kg.errors import InputError
from kg.sources import catalogs, filings, institutions, memberships, regions, rules, turtle
from kg.sources.common import Context, Triples
from kg.sources.tables import read_header
from kg.sources.yamlio import load_yaml

# Read in this order: the ontology first, regions before anything placed in them.
ORDER = [
    "ontology",
    "regions",
    "rules",
    "catalog",
    "institutions",
    "memberships",
    "filings",
    "turtle",
]
IGNORED_SUFFIXES = {".md", ".txt", ".json", ""}


@dataclass
class SourceFile:
    path: Path
    graph: str  # graph name, e.g. "default/rules/national.yaml"
    kind: str
    data: Any = field(default=None, repr=False)


def ontology_sources() -> list[SourceFile]:
    root = resources.ontology_dir()
    return [
        SourceFile(p, "ontology/" + p.relative_to(root).as_posix(), "ontology")
        for p in resources.ontology_files()
    ]


def discover(data_dirs: list[tuple[str, Path]]) -> list[SourceFile]:
    """Every source file of the given ``(label, dir)`` pairs, in reading order."""
    found: list[SourceFile] = []
    for label, root in data_dirs:
        if not root.is_dir():
            raise InputError(root, None, "data directory not found")
        files = sorted(p for p in root.rglob("*") if p.is_file() and not _hidden(p, root))
        referenced: set[Path] = set()
        pending: list[SourceFile] = []
        for path in files:
            name = f"{label}/{path.relative_to(root).as_posix()}"
            suffix = path.suffix.lower()
            if suffix == ".csv":
                pending.append(SourceFile(path, name, _csv_kind(path)))
            elif suffix in {".yaml", ".yml"}:
                src = yaml_source(path, name)
                if src.kind == "catalog":
                    items = catalogs.items_file(path, src.data)
                    if items:
                        referenced.add(items)
                pending.append(src)
            elif suffix == ".ttl":
                pending.append(SourceFile(path, name, "turtle"))
            elif suffix in IGNORED_SUFFIXES or path.name.startswith("LICENSE"):
                continue
            else:
                raise InputError(
                    path,
                    None,
                    f"unknown kind of source file '{path.suffix}' (expected .csv, .yaml or .ttl)",
                )
        for src in pending:
            if src.path.resolve() in referenced:
                continue
            if src.kind == "unknown":
                raise InputError(
                    src.path,
                    1,
                    "cannot tell what this CSV holds from its header (see docs/data-formats.md)",
                )
            found.append(src)
    found.sort(key=lambda s: ORDER.index(s.kind))
    return found


def yaml_source(path: Path, graph: str) -> SourceFile:
    """A YAML source file: a catalog header or a rules file, told by its top-level keys.

    An empty file (or one of comments only) has no kind, as a CSV file without a header has
    none: it is refused, so that a file meant as data is not passed over in silence.
    """
    data = load_yaml(path)
    if data is None:
        raise InputError(
            path,
            1,
            "empty YAML file: nothing to read (a rules file has documents:, rules:, "
            "examples: or facts: at the top, a catalog header catalog:; docs/data-formats.md)",
        )
    if catalogs.matches_yaml(data):
        return SourceFile(path, graph, "catalog", data)
    if rules.matches_yaml(data):
        return SourceFile(path, graph, "rules", data)
    raise InputError(
        path,
        1,
        "a YAML source has catalog:, or documents:, rules:, examples:, facts: at the top "
        "(docs/data-formats.md)",
    )


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith((".", "_")) for part in path.relative_to(root).parts)


def _csv_kind(path: Path) -> str:
    header = read_header(path)
    for kind, module in (
        ("regions", regions),
        ("filings", filings),
        ("institutions", institutions),
        ("memberships", memberships),
    ):
        if module.matches(header):
            return kind
    return "unknown"


def read(src: SourceFile, ctx: Context) -> Triples:
    """The triples of one source file."""
    if src.kind in {"ontology", "turtle"}:
        yield from _turtle(src.path)
    elif src.kind == "regions":
        yield from regions.read(src.path, ctx)
    elif src.kind == "rules":
        yield from rules.read(src.path, ctx, src.data)
    elif src.kind == "catalog":
        yield from catalogs.read(src.path, ctx, src.data)
    elif src.kind == "institutions":
        yield from institutions.read(src.path, ctx)
    elif src.kind == "memberships":
        yield from memberships.read(src.path, ctx)
    elif src.kind == "filings":
        yield from filings.read(src.path, ctx)
    else:  # pragma: no cover - discover() only makes the kinds above
        raise ValueError(src.kind)


def _turtle(path: Path) -> Iterator[Any]:
    for t in turtle.parse(path):
        yield t.subject, t.predicate, t.object


def check_references(ctx: Context) -> None:
    """Every overridden statement is defined somewhere in the build.

    A cited document that no file defines is left to the shapes (``ybsh:Source-document``,
    ``ybsh:Membership-source``): validation reports it with the statement that cites it.
    """
    for ident, path, line in ctx.statement_refs:
        if ident not in ctx.statements:
            raise InputError(path, line, f"statement '{ident}' is not defined in any source file")


__all__ = ["Context", "SourceFile", "check_references", "discover", "ontology_sources", "read"]
