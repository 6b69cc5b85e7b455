"""``yibao validate --data FILE``: new data read by the build's own readers into a snapshot.

Pipeline stage: validation input. The published store is snapshotted with
``Store.backup`` (RocksDB hard links: milliseconds, no copy of the data), the files are
read by :mod:`kg.sources` (the formats of docs/data-formats.md, errors with file and line)
into their own named graphs of the snapshot, and the snapshot is validated and deleted.

A file inside the shipped default data directory replaces the graph it was built into (so
an edited ``kg/data/rules/foshan-440600.yaml`` is checked as the new version, its ids free
to be redefined); a folder outside it replaces the graphs ``yibao build --data`` of that
folder made (the build's label: the folder's name); any other file is added in a graph
``validate/<file name>``, and an id it defines that the store already has is an error, as
in a build.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg import resources, sources, store
from kg.build import BuildOptions, data_dirs
from kg.errors import InputError, StoreError
from kg.sources import SourceFile, filings, institutions, memberships, regions
from kg.sources.common import BuildReport, Context, RegionInfo
from kg.sources.tables import read_header
from kg.validate.shapes import Term
from kg.vocab import DCTERMS, GRAPH, RDF, RDFS, SKOS, YB, graph_iri, load_vocabulary

EXTRA_GRAPH = "validate"
CSV_KINDS = (
    ("regions", regions),
    ("filings", filings),
    ("institutions", institutions),
    ("memberships", memberships),
)


@dataclass
class Snapshot:
    """A writable copy of the published generation (``path``), opened as ``db``."""

    db: ox.Store
    path: Path


@contextmanager
def snapshot(store_dir: str | Path | None) -> Iterator[Snapshot]:
    """A writable copy of the published generation, deleted on exit."""
    root = store.resolve_dir(store_dir)
    generation = store.current_generation(root)
    if generation is None:
        store.open_store(root)  # raises the usual "no knowledge graph" error
        raise StoreError(f"no knowledge graph in {root}")  # pragma: no cover
    parent = root if os.access(root, os.W_OK) else None  # same file system: hard links
    tmp = Path(tempfile.mkdtemp(prefix=".validate-", dir=parent))
    db: ox.Store | None = None
    try:
        try:
            ox.Store.read_only(str(generation)).backup(str(tmp / "db"))
        except OSError as exc:
            raise StoreError(f"cannot snapshot the store {generation}: {exc}") from None
        db = ox.Store(str(tmp / "db"))
        yield Snapshot(db, tmp / "db")
    finally:
        del db
        shutil.rmtree(tmp, ignore_errors=True)


def source_file(path: Path) -> SourceFile:
    """What a data file holds (by name and header, as the build decides) and its graph."""
    if not path.is_file():
        raise InputError(path, None, "file not found / 文件不存在")
    graph = graph_name(path)
    suffix = path.suffix.lower()
    if suffix == ".ttl":
        return SourceFile(path, graph, "turtle")
    if suffix in (".yaml", ".yml"):
        return sources.yaml_source(path, graph)
    if suffix == ".csv":
        header = read_header(path)
        for kind, module in CSV_KINDS:
            if module.matches(header):
                return SourceFile(path, graph, kind)
        raise InputError(
            path,
            1,
            "cannot tell what this CSV holds from its header (docs/data-formats.md; a catalog's "
            "items are read through its YAML header)",
        )
    raise InputError(
        path, None, f"unknown kind of data file '{path.suffix}' (expected .ttl, .yaml or .csv)"
    )


def graph_name(path: Path) -> str:
    """``default/…`` for a file of the shipped data (it replaces that graph), else
    ``validate/…``."""
    default = resources.data_dir().resolve()
    resolved = path.resolve()
    if resolved == default:
        return "default"
    if resolved.is_relative_to(default):
        return "default/" + resolved.relative_to(default).as_posix()
    return f"{EXTRA_GRAPH}/{path.resolve().name}"


def folder_labels(paths: Iterable[Path]) -> dict[Path, str]:
    """The graph-name prefix of each folder: ``default/…`` inside the shipped data, else the
    label ``yibao build`` gives it (``--data`` with the same folders in the same order)."""
    folders = [p for p in map(Path, paths) if p.is_dir()]
    default = resources.data_dir().resolve()
    outside = [p for p in folders if not p.resolve().is_relative_to(default)]
    built = dict(data_dirs(BuildOptions(data_dirs=outside))[1:])  # after ("default", …)
    labels = {path: label for label, path in built.items()}
    return {p: labels.get(p) or graph_name(p).rstrip("/") for p in folders}


def source_files(
    paths: Iterable[Path], labels: Mapping[Path, str] | None = None
) -> list[SourceFile]:
    """The source files of files and folders (a folder is read like a build's data folder,
    its graphs named after ``labels``, :func:`folder_labels` by default)."""
    given = [Path(p) for p in paths]
    labels = folder_labels(given) if labels is None else labels
    found: list[SourceFile] = []
    for path in given:
        if path.is_dir():
            found.extend(sources.discover([(labels[path], path)]))
        else:
            found.append(source_file(path))
    return sorted(found, key=lambda s: sources.ORDER.index(s.kind))


def add_files(db: ox.Store, paths: Iterable[Path], report: BuildReport | None = None) -> set[Term]:
    """Read the files into ``db``; return the nodes their triples mention.

    A file of the shipped data replaces its graph; a folder outside it replaces the graphs a
    build with ``--data`` of it made (so a changed folder is checked as its new version).

    Rows the readers skip (an institution no region places, a repeated name) are recorded
    in ``report``, as a build records them.
    """
    paths = [Path(p) for p in paths]
    labels = folder_labels(paths)
    files = source_files(paths, labels)
    names = [f.graph for f in files]
    for name in {n for n in names if names.count(n) > 1}:
        clash = [str(f.path) for f in files if f.graph == name]
        raise InputError(
            clash[1], None, f"two files map to the same graph {name}: {', '.join(clash)}"
        )
    # a folder replaces what a build of it made, files since removed included
    prefixes = tuple(label + "/" for label in labels.values())
    stale = {_graph_name(g) for g in db.named_graphs()} if prefixes else set()
    replaced = {f.graph for f in files if db.contains_named_graph(graph_iri(f.graph))}
    replaced |= {g for g in stale if g.startswith(prefixes)}
    ctx = store_context(db, replaced, report)
    for graph in replaced:
        db.remove_graph(graph_iri(graph))
    touched: set[Term] = set()
    for src in files:
        graph_node = graph_iri(src.graph)
        quads = []
        for s, p, o in sources.read(src, ctx):
            quads.append(ox.Quad(s, p, o, graph_node))
            touched.add(s)
            if isinstance(o, (ox.NamedNode, ox.BlankNode)):
                touched.add(o)
        db.extend(quads)
    sources.check_references(ctx)
    db.flush()  # worker processes read the snapshot from disk
    return touched


def store_context(db: ox.Store, replaced: set[str], report: BuildReport | None = None) -> Context:
    """A reading context that knows the store's regions, documents and statements."""
    ctx = Context(vocab=load_vocabulary(), report=report or BuildReport())
    vocab = ctx.vocab
    for q in db.quads_for_pattern(None, YB.regionCode, None, None):
        node = q.subject
        code = str(getattr(q.object, "value", ""))
        level_node = _one(db, node, YB.regionLevel)
        level = vocab.notation(level_node.value) if level_node is not None else None
        parent = _one(db, node, YB.parentRegion)
        parent_code = _one(db, parent, YB.regionCode) if parent is not None else None
        ctx.regions.add(
            RegionInfo(
                code=code,
                name=_label(db, node) or code,
                level=level or "",
                parent=parent_code.value if parent_code is not None else None,
                pooling=_has(db, node, RDF.type, YB.PoolingRegion),
                alt_names=tuple(
                    str(getattr(q2.object, "value", ""))
                    for q2 in db.quads_for_pattern(node, SKOS.altLabel, None, None)
                ),
            )
        )
    for cls, known in ((YB.Document, ctx.documents), (YB.PolicyStatement, ctx.statements)):
        for q in db.quads_for_pattern(None, RDF.type, cls, None):
            where = _graph_name(q.graph_name)
            if where in replaced:
                continue
            ident = _one(db, q.subject, DCTERMS.identifier)
            if ident is not None:
                known[ident.value] = f"the store (graph {where})"
    return ctx


def _one(
    db: ox.Store, subject: object, predicate: ox.NamedNode
) -> ox.NamedNode | ox.Literal | None:
    q = next(iter(db.quads_for_pattern(subject, predicate, None, None)), None)  # type: ignore[arg-type]
    return q.object if q is not None else None  # type: ignore[return-value]


def _has(db: ox.Store, subject: object, predicate: ox.NamedNode, obj: ox.NamedNode) -> bool:
    quads = db.quads_for_pattern(subject, predicate, obj, None)  # type: ignore[arg-type]
    return next(iter(quads), None) is not None


def _label(db: ox.Store, node: object) -> str | None:
    for q in db.quads_for_pattern(node, RDFS.label, None, None):  # type: ignore[arg-type]
        if getattr(q.object, "language", None) == "zh":
            return str(getattr(q.object, "value", ""))
    return None


def _graph_name(graph: object) -> str:
    value = getattr(graph, "value", "")
    return value[len(GRAPH) :] if value.startswith(GRAPH) else value
