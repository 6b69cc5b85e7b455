"""Build: source files → triples → a new generation of the persistent Oxigraph store.

Pipeline stage 1. Each source file becomes one named graph. Triples stream from the
readers into ``Store.bulk_extend`` (no full-graph copy in memory). The new generation is
published only when every file was read, every reference resolved and (unless
``allow_invalid``) the data conforms to the shapes; otherwise the previous store is left
untouched and the error names the file and line.
"""

from __future__ import annotations

import gc
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg import query, resources, sources, store
from kg.progress import Reporter
from kg.sources.common import BuildReport, Context, integer_lit
from kg.vocab import DCTERMS, RDF, VOID, graph_iri, load_vocabulary

META_GRAPH = "meta"
BATCH = 10_000


@dataclass
class BuildOptions:
    data_dirs: list[Path]
    include_default: bool = True
    allow_invalid: bool = False
    validate: bool = True
    progress: bool | None = None


def data_dirs(options: BuildOptions) -> list[tuple[str, Path]]:
    """``(label, dir)`` for every data directory; labels prefix the graph names."""
    out: list[tuple[str, Path]] = []
    if options.include_default:
        out.append(("default", resources.data_dir()))
    used = {label for label, _ in out}
    for path in options.data_dirs:
        label = path.resolve().name or "data"
        n = 2
        base = label
        while label in used:
            label, n = f"{base}-{n}", n + 1
        used.add(label)
        out.append((label, path))
    return out


Validator = Callable[[ox.Store, BuildReport, Path | None], None]


def build(
    store_dir: str | Path | None, options: BuildOptions, validator: Validator | None = None
) -> tuple[Path, BuildReport]:
    """Build a new generation and publish it; return its path and report."""
    started = time.perf_counter()
    root = store.resolve_dir(store_dir)
    report = BuildReport()
    ctx = Context(vocab=load_vocabulary(), report=report)
    files = sources.ontology_sources() + sources.discover(data_dirs(options))
    reporter = Reporter(options.progress)
    with store.staging(root) as staged:
        db = ox.Store(str(staged))
        try:
            with reporter.session():
                for src in files:
                    graph = graph_iri(src.graph)
                    with reporter.step(src.graph) as bar:
                        count = _load(db, sources.read(src, ctx), graph, bar)
                    report.graphs[src.graph] = count
                    report.files[src.graph] = str(src.path)
                sources.check_references(ctx)
                db.bulk_extend(_meta_quads(report))
            summarise(db, report)
            if options.validate and validator is not None:
                validator(db, report, staged)
            db.flush()
        except BaseException as exc:
            # the traceback's frames (_load, the readers) hold the store open: clear them
            # so RocksDB closes before the staging directory is removed
            traceback.clear_frames(exc.__traceback__)
            raise
        finally:
            del db
            gc.collect()
        report.seconds = time.perf_counter() - started
        published = store.publish(root, staged, report.as_dict())
    return published, report


def _load(
    db: ox.Store, triples: Iterator[tuple[object, object, object]], graph: ox.NamedNode, bar: object
) -> int:
    """Stream a source's triples into the store, in ``graph``; return how many were read."""
    count = 0

    def quads() -> Iterator[ox.Quad]:
        nonlocal count
        for s, p, o in triples:
            count += 1
            if count % BATCH == 0:
                bar.advance(BATCH)  # type: ignore[attr-defined]
            yield ox.Quad(s, p, o, graph)  # type: ignore[arg-type]

    db.bulk_extend(quads())
    bar.advance(count % BATCH)  # type: ignore[attr-defined]
    return count


def _meta_quads(report: BuildReport) -> Iterator[ox.Quad]:
    meta = graph_iri(META_GRAPH)
    for name, count in sorted(report.graphs.items()):
        g = graph_iri(name)
        yield ox.Quad(g, RDF.type, VOID.Dataset, meta)
        yield ox.Quad(g, DCTERMS.source, ox.Literal(name), meta)
        yield ox.Quad(g, VOID.triples, integer_lit(count), meta)


def summarise(db: ox.Store, report: BuildReport) -> None:
    """Counts per class, drugs per catalog and the total number of triples."""
    _, rows = query.solutions(query.run_named(db, "class_counts"))
    report.class_counts = {
        str(query.value_of(r["class"])).rsplit("#", 1)[-1]: int(query.value_of(r["count"]))
        for r in rows
    }
    _, rows = query.solutions(query.run_named(db, "catalog_drug_counts"))
    report.drug_counts = {
        str(query.value_of(r["id"])): int(query.value_of(r["drugs"])) for r in rows
    }
    report.total_triples = len(db)
