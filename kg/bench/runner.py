"""``yibao bench``: the persistent store against the naive in-memory way, at national scale.

Pipeline stage: benchmark, over everything (generate → build → which-rule → validate). For
each size: generate a synthetic data set (or reuse one whose manifest matches), build it in a
child process (wall time, peak RSS), answer random which-rule scenarios (cold: a fresh
engine per question; warm: one engine, after a warm-up; batch throughput), validate the
whole graph and one region with the Oxigraph engine, then dump the graph to N-Triples and
let a guarded child process (:mod:`kg.bench.baseline`) do the same with rdflib and pySHACL.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg import store
from kg.bench import guard
from kg.bench.baseline import answer_digest
from kg.bench.scenarios import random_scenarios
from kg.errors import KgError, StoreError

GIB = 1024**3
WARM_UP = 100  # scenarios answered (and not measured) before the warm measurement
COLD = 200  # scenarios answered cold (each by a new engine): the first ones


@dataclass
class Options:
    sizes: list[int]
    regions: int = 300
    seed: int = 1
    workdir: Path = Path("bench-work")
    baseline_timeout: float = 900.0
    scenarios: int = 1000
    output: Path = Path("BENCHMARKS.md")
    memory_limit: int = 16 * GIB
    which_rule_seconds: float = 120.0  # the baseline's which-rule sample stops after this
    reuse: list[Path] = field(default_factory=list)
    baseline: bool = True
    keep: bool = False  # keep the N-Triples dumps

    def command(self) -> str:
        """The command line that reproduces this run."""
        parts = [
            "yibao bench",
            f"--sizes {','.join(str(n) for n in self.sizes)}",
            f"--regions {self.regions}",
            f"--seed {self.seed}",
            f"--scenarios {self.scenarios}",
            f"--baseline-timeout {self.baseline_timeout:g}",
        ]
        if self.which_rule_seconds != Options.which_rule_seconds:
            parts.append(f"--baseline-sample-seconds {self.which_rule_seconds:g}")
        if self.memory_limit != Options.memory_limit:
            parts.append(f"--baseline-memory {self.memory_limit / GIB:g}")
        parts.append(f"--output {self.output}")
        if not self.baseline:
            parts.append("--no-baseline")
        return " ".join(parts)


Echo = Callable[[str], None]


def run(options: Options, echo: Echo = print) -> dict[str, Any]:
    """Measure every size; return the results (see :func:`kg.bench.report.render`)."""
    from kg.bench.report import machine

    options.workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": options.command(),
        "machine": machine(),
        "options": {
            "regions": options.regions,
            "seed": options.seed,
            "scenarios": options.scenarios,
            "baseline_timeout": options.baseline_timeout,
            "memory_limit": options.memory_limit,
            "which_rule_seconds": options.which_rule_seconds,
        },
        "sizes": [],
    }
    for n in sorted(options.sizes):
        echo(f"== {n:,} institutions / 家医疗机构 ==")
        results["sizes"].append(measure(n, options, echo, _gave_up(results["sizes"])))
        (options.workdir / "bench.json").write_text(
            json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8"
        )
    return results


def _gave_up(done: list[dict[str, Any]]) -> dict[str, str]:
    """Baseline phases that hit a limit at a smaller size (not run again at larger ones).

    phase → the reason, e.g. ``{"pyshacl": "timeout at 10,000"}``.
    """
    out: dict[str, str] = {}
    for size in done:
        base = size.get("baseline") or {}
        if base.get("status") in (guard.TIMEOUT, guard.MEMORY):
            phase = base.get("stopped_in")
            if phase:
                out.setdefault(phase, f"{base['status']} at {size['institutions']:,}")
        for phase, reason in (base.get("skipped") or {}).items():
            out.setdefault(phase, reason)
    return out


def measure(n: int, options: Options, echo: Echo, gave_up: dict[str, str]) -> dict[str, Any]:
    """Every measurement at one size."""
    out: dict[str, Any] = {"institutions": n}
    data, manifest, seconds = dataset(n, options, echo)
    out.update(
        data=str(data),
        generate_seconds=seconds,
        filings=manifest["filings"],
        planted=manifest["planted_total"],
    )
    root = options.workdir / f"store-{n}"
    echo(f"build / 构建: {data} → {root}")
    built = guard.run(
        [
            sys.executable,
            "-m",
            "kg",
            "build",
            "--store",
            str(root),
            "--data",
            str(data),
            "--no-validate",
            "--no-progress",
        ],
        log=options.workdir / f"build-{n}.log",
    )
    if built.status != guard.OK:
        raise StoreError(f"the build of {data} failed / 构建失败:\n{built.log_tail}")
    report = store.read_report(root)
    out["build"] = {
        "seconds": built.seconds,
        "peak_rss": built.peak_rss,
        "triples": report.get("total_triples"),
        "violations": report.get("violations"),
    }
    echo(
        f"  {out['build']['triples']:,} triples in {built.seconds:.1f} s, "
        f"peak RSS {built.peak_rss / GIB:.2f} GiB"
    )
    db = store.open_store(root)
    generation = store.current_generation(store.resolve_dir(root))
    scenarios = random_scenarios(manifest["regions"], options.scenarios, options.seed)
    out["which_rule"] = which_rule_timings(db, scenarios, manifest["regions"], options.seed)
    wr = out["which_rule"]
    echo(
        f"  which-rule warm p50 {wr['warm']['p50'] * 1e3:.2f} ms, p99 "
        f"{wr['warm']['p99'] * 1e3:.2f} ms, {wr['throughput']:.0f}/s; cold p50 "
        f"{wr['cold']['p50'] * 1e3:.2f} ms"
    )
    out["validation"] = validation_timings(db, generation, manifest, options.seed)
    v = out["validation"]
    echo(
        f"  validation {v['seconds']:.1f} s, {v['violations']} violations "
        f"(planted {manifest['planted_total']}); region {v['region']} {v['region_seconds']:.2f} s"
    )
    if options.baseline:
        out["baseline"] = baseline(n, db, scenarios, options, echo, gave_up)
        out["baseline"]["answers_identical"] = _agreement(
            wr["answers"], out["baseline"].get("answers") or []
        )
        out["baseline"].pop("answers", None)
    wr.pop("answers")
    del db
    return out


# ------------------------------------------------------------------ data set


def dataset(n: int, options: Options, echo: Echo) -> tuple[Path, dict[str, Any], float | None]:
    """A generated data set of ``n`` institutions: reused when a manifest matches."""
    from kg.generate import Plan, generate

    plan = Plan(
        institutions=n,
        regions=options.regions,
        seed=options.seed,
        filings=max(n // 10, options.regions),
    )
    candidates = [*options.reuse, options.workdir / f"gen-{n}"]
    for path in candidates:
        manifest = _manifest(path)
        if manifest is not None and _matches(manifest, plan):
            echo(f"reusing / 复用 {path}")
            return path, manifest, None
    target = options.workdir / f"gen-{n}"
    if target.exists():
        shutil.rmtree(target)
    echo(f"generate / 生成: {n:,} institutions → {target}")
    started = time.perf_counter()
    manifest = generate(target, plan)
    return target, manifest, time.perf_counter() - started


def _manifest(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads((path / "manifest.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


def _matches(manifest: dict[str, Any], plan: Any) -> bool:
    regions = len(manifest.get("regions", []))
    return (
        manifest.get("institutions") == plan.institutions
        and manifest.get("seed") == plan.seed
        and regions == plan.regions
        and manifest.get("filings") == max(plan.filings // regions, 1) * regions
    )


# ------------------------------------------------------------------ which-rule


class FreshStore:
    """The same store as a new object: :func:`kg.resolve.engine_for` gives it a new engine,
    so a question answered through it reads the graph as the first question of a process."""

    def __init__(self, db: ox.Store) -> None:
        self.db = db

    def query(self, *args: Any, **kwargs: Any) -> Any:
        return self.db.query(*args, **kwargs)


def quantiles(values: list[float]) -> dict[str, float]:
    """p50, p99, mean and max of latencies (seconds)."""
    if not values:
        return {}
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "n": len(values),
        "p50": statistics.median(ordered),
        "p99": p99,
        "mean": statistics.fmean(ordered),
        "max": ordered[-1],
    }


def _answer(db: Any, scenario: Any) -> str:
    from kg.resolve import which_rule

    try:
        return answer_digest(which_rule(db, scenario))
    except KgError as exc:
        return f"error: {exc}"


def which_rule_timings(
    db: ox.Store, scenarios: list[dict[str, Any]], regions: list[str], seed: int
) -> dict[str, Any]:
    """Cold and warm latencies, batch throughput and the answers (to compare engines).

    Cold: the first :data:`COLD` scenarios, each answered by a new engine (as the first
    question of a process). Warm: every scenario, one engine, after a warm-up.
    """
    from kg import resolve

    parsed = [resolve.Scenario.from_mapping(s) for s in scenarios]
    cold, answers = [], []
    for scenario in parsed[:COLD]:
        fresh = FreshStore(db)
        t0 = time.perf_counter()
        answers.append(_answer(fresh, scenario))
        cold.append(time.perf_counter() - t0)
        resolve._ENGINES.pop(id(fresh), None)  # let the one-off engine go
    warm_up = random_scenarios(regions, min(WARM_UP, len(scenarios)), seed + 1)
    for s in warm_up:
        _answer(db, resolve.Scenario.from_mapping(s))
    warm = []
    for scenario in parsed:
        t0 = time.perf_counter()
        _answer(db, scenario)
        warm.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    for scenario in parsed:
        _answer(db, scenario)
    batch = time.perf_counter() - t0
    return {
        "cold": quantiles(cold),
        "warm": quantiles(warm),
        "throughput": len(parsed) / batch if batch else 0.0,
        "errors": sum(1 for a in answers if a.startswith("error:")),
        "answers": answers,
    }


def _agreement(ours: list[str], theirs: list[str]) -> dict[str, int]:
    same = sum(1 for a, b in zip(ours, theirs, strict=False) if a == b)
    return {"same": same, "compared": min(len(ours), len(theirs))}


# ------------------------------------------------------------------ validation


def validation_timings(
    db: ox.Store, generation: Path | None, manifest: dict[str, Any], seed: int
) -> dict[str, Any]:
    """Full validation (Oxigraph engine, default workers) and one region's."""
    from kg import lookup
    from kg.validate import scope, validate_store
    from kg.validate.engine import default_jobs

    jobs = default_jobs()
    t0 = time.perf_counter()
    report = validate_store(db, jobs=jobs, path=generation)
    seconds = time.perf_counter() - t0
    code = random.Random(seed).choice(manifest["regions"])
    t0 = time.perf_counter()
    region = lookup.region(db, code)
    nodes = scope.region_nodes(db, region.node)
    regional = validate_store(db, focus=nodes, scope=f"region {code}")
    region_seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "jobs": jobs,
        "violations": report.counts["violation"],
        "warnings": report.counts.get("warning", 0),
        "planted": manifest["planted_total"],
        "region": code,
        "region_nodes": len(nodes),
        "region_seconds": region_seconds,
        "region_violations": regional.counts["violation"],
    }


# ------------------------------------------------------------------ the naive way


def baseline(
    n: int,
    db: ox.Store,
    scenarios: list[dict[str, Any]],
    options: Options,
    echo: Echo,
    gave_up: dict[str, str],
) -> dict[str, Any]:
    """Dump the graph, then rdflib + pySHACL in a guarded child process.

    A phase that hit a limit at a smaller size is not run again (``gave_up``): it would
    only hit it again, later.
    """
    if "parse" in gave_up:
        echo(f"  baseline skipped / 跳过: rdflib parse {gave_up['parse']}")
        return {"status": "skipped", "skipped": {"parse": gave_up["parse"]}}
    triples = options.workdir / f"graph-{n}.nt"
    echo(f"  dump N-Triples / 导出 → {triples}")
    t0 = time.perf_counter()
    ox.serialize((quad.triple for quad in db), str(triples), ox.RdfFormat.N_TRIPLES)
    out: dict[str, Any] = {
        "dump_seconds": time.perf_counter() - t0,
        "dump_bytes": triples.stat().st_size,
    }
    scenario_file = options.workdir / f"scenarios-{n}.json"
    scenario_file.write_text(json.dumps(scenarios, ensure_ascii=False), encoding="utf-8")
    events = options.workdir / f"baseline-{n}.jsonl"
    events.unlink(missing_ok=True)
    echo(
        f"  rdflib + pySHACL (limits: {options.baseline_timeout:g} s per phase, "
        f"{options.memory_limit / GIB:g} GiB)"
    )
    outcome = guard.run(
        [
            sys.executable,
            "-m",
            "kg.bench.baseline",
            "--triples",
            str(triples),
            "--scenarios",
            str(scenario_file),
            "--events",
            str(events),
            "--which-rule-seconds",
            str(min(options.baseline_timeout, options.which_rule_seconds)),
            *([] if "pyshacl" in gave_up else ["--pyshacl"]),
        ],
        log=options.workdir / f"baseline-{n}.log",
        timeout=options.baseline_timeout,
        memory_limit=options.memory_limit,
        events=events,
    )
    if not options.keep:
        triples.unlink(missing_ok=True)
    out.update(
        status=outcome.status,
        stopped_in=outcome.phase,
        seconds=outcome.seconds,
        peak_rss=outcome.peak_rss,
        log_tail=outcome.log_tail if outcome.status == guard.FAILED else "",
        skipped={k: v for k, v in gave_up.items() if k == "pyshacl"},
    )
    parsed = outcome.done("parse")
    if parsed:
        out["parse"] = {"seconds": parsed["seconds"], "triples": parsed["triples"]}
    answered = outcome.done("which_rule")
    if answered:
        out["which_rule"] = quantiles(answered["latencies"])
        out["which_rule"]["unfinished"] = answered.get("unfinished")
        out["answers"] = answered["answers"]
    shacl = outcome.done("pyshacl")
    if shacl:
        out["pyshacl"] = {k: shacl[k] for k in ("seconds", "violations", "results")}
    echo(
        f"  baseline: {outcome.status} ({outcome.seconds:.0f} s, "
        f"peak RSS {outcome.peak_rss / GIB:.2f} GiB)"
    )
    return out
