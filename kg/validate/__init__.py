"""Validation: the SHACL shapes of ``ontology/shapes/`` checked against the knowledge graph.

Pipeline stage: after ``kg/build.py`` (which calls :func:`gate` on the staged store before
publishing), before any answer is trusted. The shapes are compiled into SPARQL and run in
the Oxigraph store (:mod:`kg.validate.engine`); pySHACL on an in-memory copy is the
reference (:mod:`kg.validate.reference`). ``yibao validate`` is the command line.

Modules: :mod:`~kg.validate.shapes` (reading the shapes), :mod:`~kg.validate.compile`
(shapes → SPARQL), :mod:`~kg.validate.engine` (running them), :mod:`~kg.validate.reference`
(pySHACL), :mod:`~kg.validate.extra` (``--data`` files in a snapshot),
:mod:`~kg.validate.report` (results and formats).
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from kg import resources
from kg.errors import ValidationFailed

if TYPE_CHECKING:
    from kg.sources.common import BuildReport
    from kg.validate.report import Report
    from kg.validate.shapes import Term

__all__ = ["ENGINES", "gate", "validate_store"]

ENGINES = ("oxigraph", "pyshacl")


def validate_store(
    db: ox.Store,
    engine: str = "oxigraph",
    focus: Collection[Term] | None = None,
    touching: Collection[Term] | None = None,
    scope: str = "all",
    jobs: int = 1,
    path: Path | None = None,
) -> Report:
    """Validate a store (the union of its graphs) with one of :data:`ENGINES`.

    ``jobs`` > 1 lets the Oxigraph engine share the checks among worker processes that
    open ``path`` (the store's directory, flushed) read-only.
    """
    from kg.validate.engine import OxigraphEngine
    from kg.validate.reference import PyshaclEngine
    from kg.validate.report import Report

    runner = OxigraphEngine() if engine == "oxigraph" else PyshaclEngine()
    started = time.perf_counter()
    if isinstance(runner, OxigraphEngine):
        results = runner.run(db, focus=focus, touching=touching, jobs=jobs, path=path)
    else:
        results = runner.run(db, focus=focus, touching=touching)
    return Report(
        results,
        engine=runner.name,
        seconds=time.perf_counter() - started,
        scope=scope,
        shapes=runner.shapes,
        timings=list(getattr(runner, "timings", [])),
    )


def gate(
    allow_invalid: bool,
    store_dir: Path | None = None,
    data: Sequence[tuple[str, Path]] = (),
) -> Callable[[ox.Store, BuildReport, Path | None], None]:
    """The build's validator: refuse a graph with violations unless ``allow_invalid``.

    The count of violations is recorded in the build report either way. Given the staged
    store's directory, the checks are shared among worker processes (as ``yibao validate``
    does) after the store is flushed. A refusal names the source file of each rule's
    violations and the ``yibao validate`` command that reports them in full: the build's
    ``data`` folders (``(label, dir)``, the shipped one only when a violation lies in it)
    checked against the published store in ``store_dir``.
    """

    def check(db: ox.Store, build_report: BuildReport, path: Path | None = None) -> None:
        from kg.validate.engine import default_jobs
        from kg.validate.report import describe

        jobs = default_jobs() if path is not None else 1
        if jobs > 1:
            db.flush()
        report = validate_store(db, jobs=jobs, path=path)
        build_report.violations = report.counts["violation"]
        if not report.conforms and not allow_invalid:
            info = describe(db, {r.focus for r in report.results})
            graphs = {r.focus: info[r.focus].graph for r in report.results if r.focus in info}
            files = {
                node: build_report.files[g] for node, g in graphs.items() if g in build_report.files
            }
            command = rerun_command(store_dir, data, {g for g in graphs.values() if g})
            raise ValidationFailed(
                report.summary(files=files, command=command)
                + "\nnot published / 未发布 (use --allow-invalid to publish anyway)"
            )

    return check


def rerun_command(
    store_dir: Path | None, data: Sequence[tuple[str, Path]], graphs: Collection[str]
) -> str:
    """``yibao validate --store D --data DIR …``: a refused build's data checked against the
    published store, which reports what the build found in those folders.

    >>> shipped = ("default", resources.data_dir())
    >>> rerun_command(Path("s"), [shipped, ("x", Path("my x"))], {"x/a.yaml"})
    "yibao validate --store s --data 'my x'"
    """
    args = ["yibao", "validate"]
    if store_dir is not None:
        args += ["--store", str(store_dir)]
    for label, folder in data:
        shipped = folder.resolve() == resources.data_dir().resolve()
        if shipped and not any(g.startswith(label + "/") for g in graphs):
            continue  # the shipped data as published: nothing of it to report
        args += ["--data", str(folder)]
    return shlex.join(args)
