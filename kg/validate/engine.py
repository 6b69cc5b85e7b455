"""The Oxigraph validation engine: the generated queries, run in the persistent store.

Pipeline stage: validation. Every check (:mod:`kg.validate.compile`) is one query over the
union of the store's graphs, answered for all focus nodes at once, so a full run costs one
query per constraint instead of one per focus node and constraint (pySHACL's way). A run
can be narrowed:

- ``focus``: only these focus nodes. Each check runs on the focus nodes that are targets of
  its shape (none: not run), given in ``VALUES`` clauses of :data:`FOCUS_BATCH` nodes, in
  the check's group and in every nested SELECT that projects ``$this``
  (:func:`compile.bind_focus`), since Oxigraph evaluates a nested SELECT before joining it.
- ``touching``: the Core checks of these nodes, and the SHACL-SPARQL results whose focus
  node or value is one of them (how ``--data`` finds what new data breaks, including
  conflicts with rules already in the store).

With ``jobs`` > 1 and a store directory, the checks are shared among worker processes that
open the store read-only (RocksDB allows any number of readers).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Collection, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.errors import QueryError
from kg.validate.compile import (
    Check,
    bind_focus,
    compile_shapes,
    render,
    target_patterns,
)
from kg.validate.report import SEVERITIES, Result, fill
from kg.validate.scope import reaching
from kg.validate.shapes import (
    SPARQL_COMPONENT,
    Constraint,
    Shape,
    ShapesGraph,
    Target,
    Term,
    shipped_shapes,
    short_name,
)
from kg.vocab import PREFIXES, RDF, RDFS

# Up to this many focus nodes a check gets them in VALUES clauses; beyond, it runs once
# for all targets and the results are filtered.
VALUES_LIMIT = 20_000
# Focus nodes per query of a narrowed run: with a few hundred values Oxigraph joins the
# patterns value by value; with thousands it may scan a pattern whole and hash-join (a
# networked-service check at 650,000 institutions: 0.14 s for 1,000 nodes, 92 s for 1,821).
FOCUS_BATCH = 1000
# Target sets up to this size are bound inline and their checks join the paths node by node
# (the narrow form of a Core check); larger ones are bound by a DISTINCT subquery and their
# checks scan the paths whole, hash-joined (a designation's dates at 650,000 institutions:
# 9.6 s node by node, 1.6 s scanned).
INLINE_TARGETS = 20_000


@dataclass
class Timing:
    check: str
    seconds: float
    results: int


@dataclass
class OxigraphEngine:
    """Compiles the shapes once; :meth:`run` validates a store."""

    shapes: ShapesGraph = field(default_factory=shipped_shapes)
    name: str = "oxigraph"
    timings: list[Timing] = field(default_factory=list)
    # targets up to this many are joined node by node, larger sets by whole scans
    inline_targets: int = INLINE_TARGETS

    def __post_init__(self) -> None:
        self.checks: list[Check] = compile_shapes(self.shapes)

    def run(
        self,
        db: ox.Store,
        focus: Collection[Term] | None = None,
        touching: Collection[Term] | None = None,
        jobs: int = 1,
        path: Path | None = None,
    ) -> list[Result]:
        """Validate ``db`` (all targets, or only ``focus``, or what ``touching`` touches).

        ``jobs`` > 1 runs the checks in that many processes, which open ``path`` (the
        directory of ``db``, flushed) read-only.
        """
        self.timings = []
        sizes = target_sizes(db, self.checks) if focus is None and touching is None else {}
        targets = focus_targets(db, self.checks, focus) if focus is not None else None
        inline = {node: n <= self.inline_targets for node, n in sizes.items()}
        indexed = list(enumerate(self.checks))
        if jobs > 1 and path is not None and len(indexed) > 1:
            outcomes = _in_workers(
                path, self.shapes.files, indexed, targets, touching, inline, jobs
            )
        else:
            outcomes = [
                _timed(
                    db,
                    check,
                    targets[check.owner.node] if targets is not None else None,
                    touching,
                    inline.get(check.owner.node, False),
                )
                for _, check in indexed
            ]
        seen: set[tuple[Any, ...]] = set()
        out: list[Result] = []
        for check, (results, seconds) in zip(self.checks, outcomes, strict=True):
            kept = 0
            for result in results:
                if check.sparql is not None and result.constraint != check.sparql.node:
                    # a worker's blank node for the constraint: use this process's own
                    result = replace(result, constraint=check.sparql.node)
                key = (*result.key(), _nt(result.constraint), tuple(sorted(result.message.items())))
                if key not in seen:
                    seen.add(key)
                    out.append(result)
                    kept += 1
            self.timings.append(Timing(_check_name(check), seconds, kept))
        return out


def target_sizes(db: ox.Store, checks: Iterable[Check]) -> dict[Term, int]:
    """How many focus nodes each targeted shape has (to choose how to bind them)."""
    sizes: dict[Term, int] = {}
    for check in checks:
        owner = check.owner
        if owner.node in sizes:
            continue
        query = (
            f"# Generated: how many targets {owner.id} has.\n"
            f"SELECT (COUNT(DISTINCT ?this) AS ?n) WHERE {{ {target_patterns(owner.targets)} }}"
        )
        row = next(_select(db, query, check), {})
        sizes[owner.node] = int(row["n"].value) if "n" in row else 0
    return sizes


def focus_targets(
    db: ox.Store, checks: Iterable[Check], focus: Collection[Term]
) -> dict[Term, set[Term]]:
    """The focus nodes that are targets of each shape owning a check.

    Read from the store's pattern index, node by node: a query joining thousands of
    ``VALUES`` with a class's instances costs a scan of them (0.14 s per shape for one
    region at 650,000 institutions).
    """
    nodes = set(focus)
    subjects = [n for n in nodes if not isinstance(n, ox.Literal)]
    types = {n: {q.object for q in db.quads_for_pattern(n, RDF.type, None)} for n in subjects}
    subclasses: dict[Term, set[Term]] = {}

    def targets_of(target: Target) -> set[Term]:
        if target.kind == "class":
            if target.term not in subclasses:
                subclasses[target.term] = reaching(db, target.term, RDFS.subClassOf)
            classes = subclasses[target.term]
            return {n for n, own in types.items() if own & classes}
        if target.kind == "node":
            return {target.term} & nodes
        predicate = target.term
        if not isinstance(predicate, ox.NamedNode):  # no triple has it as predicate
            return set()
        if target.kind == "subjectsOf":
            return {n for n in subjects if _any(db.quads_for_pattern(n, predicate, None))}
        return {n for n in nodes if _any(db.quads_for_pattern(None, predicate, n))}  # objectsOf

    out: dict[Term, set[Term]] = {}
    for check in checks:
        owner = check.owner
        if owner.node not in out:
            out[owner.node] = set().union(*(targets_of(t) for t in owner.targets))
    return out


def _any(quads: Iterator[ox.Quad]) -> bool:
    return next(quads, None) is not None


def _chunks(items: list[Term], size: int) -> Iterator[list[Term]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _timed(
    db: ox.Store,
    check: Check,
    focus: Collection[Term] | None,
    touching: Collection[Term] | None,
    inline: bool,
) -> tuple[list[Result], float]:
    started = time.perf_counter()
    results = list(_run_check(db, check, focus, touching, inline))
    return results, time.perf_counter() - started


def _run_check(
    db: ox.Store,
    check: Check,
    focus: Collection[Term] | None,
    touching: Collection[Term] | None,
    inline: bool = False,
) -> Iterator[Result]:
    """The results of one check: over ``focus`` nodes, over what ``touching`` touches, or
    over all targets (``inline``: few enough to bind inline and join node by node)."""
    if focus is not None and len(focus) <= VALUES_LIMIT:
        # ``focus``: the focus nodes that are targets of the check's shape
        if not focus:
            return
        for chunk in _chunks(_sorted(focus), FOCUS_BATCH):
            query = render(bind_focus(check.text(narrowed=True), chunk), check.owner, chunk)
            for row in _select(db, query, check):
                yield (
                    _core_result(check, row) if check.sparql is None else _sparql_result(check, row)
                )
        return
    # over all targets: few bound inline and joined node by node, many scanned
    whole = render(check.text(narrowed=inline), check.owner, inline=inline)
    if check.sparql is None:
        nodes = focus if focus is not None else touching
        if nodes is not None and len(nodes) <= VALUES_LIMIT:
            query = render(check.text(narrowed=True), check.owner, _sorted(nodes))
            yield from (_core_result(check, row) for row in _select(db, query, check))
            return
        keep = set(nodes) if nodes is not None else None
        for row in _select(db, whole, check):
            if keep is None or row["this"] in keep:
                yield _core_result(check, row)
        return
    for row in _select(db, whole, check):
        result = _sparql_result(check, row)
        if focus is not None and result.focus not in focus:
            continue
        if touching is not None and result.focus not in touching and result.value not in touching:
            continue
        yield result


# ------------------------------------------------------------------ worker processes


def _in_workers(
    path: Path,
    files: tuple[Path, ...],
    indexed: list[tuple[int, Check]],
    targets: dict[Term, set[Term]] | None,
    touching: Collection[Term] | None,
    inline: dict[Term, bool],
    jobs: int,
) -> list[tuple[list[Result], float]]:
    touching_list = list(touching) if touching is not None else None
    # "spawn": a worker must not inherit the parent's open RocksDB handle and its threads
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [
            pool.submit(
                _worker,
                str(path),
                tuple(str(f) for f in files),
                index,
                targets[check.owner.node] if targets is not None else None,
                touching_list,
                inline.get(check.owner.node, False),
            )
            for index, check in indexed
        ]
        return [f.result() for f in futures]


@cache
def _worker_state(path: str, files: tuple[str, ...]) -> tuple[ox.Store, list[Check]]:
    from kg.validate.shapes import read_shapes

    return ox.Store.read_only(path), compile_shapes(read_shapes(Path(f) for f in files))


def _worker(
    path: str,
    files: tuple[str, ...],
    index: int,
    focus: Collection[Term] | None,
    touching: list[Term] | None,
    inline: bool,
) -> tuple[list[Result], float]:
    db, checks = _worker_state(path, files)
    return _timed(
        db,
        checks[index],
        set(focus) if focus is not None else None,
        set(touching) if touching is not None else None,
        inline,
    )


def default_jobs() -> int:
    """Worker processes for a full run: the CPUs this process may use, at most 4."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        available = os.cpu_count() or 1
    return max(1, min(available, 4))


# ------------------------------------------------------------------ queries


def _sorted(nodes: Iterable[Term]) -> list[Term]:
    return sorted(nodes, key=str)


def _nt(term: Term | None) -> str:
    return "" if term is None else str(term)


def _check_name(check: Check) -> str:
    param = check.constraint.parameter if check.constraint is not None else "sparql"
    return f"{check.shape.id} {param} ({check.owner.id})"


def _select(
    db: ox.Store, query: str, check: Check, bindings: dict[str, Term] | None = None
) -> Iterator[dict[str, Any]]:
    prefixes = {**PREFIXES, **check.prefixes}
    subs = {ox.Variable(k): v for k, v in (bindings or {}).items()}
    try:
        solutions = db.query(
            query, prefixes=prefixes, substitutions=subs or None, use_default_graph_as_union=True
        )
    except SyntaxError as exc:
        raise QueryError(
            f"generated query of {_check_name(check)} is not valid SPARQL: {exc}\n{query}"
        ) from None
    if not isinstance(solutions, ox.QuerySolutions):
        raise QueryError(f"generated query of {_check_name(check)} is not a SELECT")
    variables = [v.value for v in solutions.variables]
    for solution in solutions:
        yield {name: solution[name] for name in variables if solution[name] is not None}


# ------------------------------------------------------------------ rows → results


def severity_of(shape: Shape) -> str:
    return SEVERITIES.get(shape.severity.value, "violation")


def detail(shape: Shape, component: str) -> str:
    """The parameter of a shape's constraint, as the report names it."""
    constraint = next((c for c in shape.constraints if c.component == component), None)
    if constraint is None:
        return ""
    return _param_text(constraint)


def _param_text(c: Constraint) -> str:
    value = c.value
    if isinstance(value, Shape):
        return short_name(value.node)
    if isinstance(value, list):
        return ", ".join(getattr(v, "value", str(v)) for v in value)
    if isinstance(value, ox.NamedNode):
        return short_name(value)
    if isinstance(value, ox.Literal):
        return value.value
    return str(value)


def _core_result(check: Check, row: dict[str, Any]) -> Result:
    focus = row["this"]
    value = row.get("value") if check.reports_value else None
    return Result(
        focus=focus,
        shape=check.shape.node,
        component=check.component,
        severity=severity_of(check.shape),
        path=check.shape.path_node,
        value=value,
        message=dict(check.shape.messages),
        detail=detail(check.shape, check.component),
    )


def _sparql_result(check: Check, row: dict[str, Any]) -> Result:
    assert check.sparql is not None
    focus = row["this"]
    value = row.get("value")
    if value is None and not check.shape.is_property:
        value = focus
    templates = check.sparql.messages or check.shape.messages
    return Result(
        focus=focus,
        shape=check.shape.node,
        component=SPARQL_COMPONENT,
        severity=severity_of(check.shape),
        path=row.get("path", check.shape.path_node),
        value=value,
        message={lang: fill(text, row) for lang, text in templates.items()},
        constraint=check.sparql.node,
    )
