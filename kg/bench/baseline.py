"""The baseline worker: rdflib parses the dumped triples, answers which-rule, runs pySHACL.

Pipeline stage: benchmark baseline, run by :mod:`kg.bench.runner` as a separate process
(``python -m kg.bench.baseline``) under a time limit and a memory guard, so an exhausted
baseline never takes the benchmark (or the machine) down. Progress is written as JSON lines
to ``--events``; each finished phase is a line, so what finished is known even when the
process is killed later.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any


def emit(path: Path, event: dict[str, Any]) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(event, ensure_ascii=False) + "\n")


def answer_digest(answer: Any) -> str:
    """What two engines must agree on: the answer values (JSON, keys sorted)."""
    return json.dumps(answer.to_json("en")["values"], sort_keys=True, ensure_ascii=False)


class OutOfTime(Exception):
    """The which-rule sample's time is up (raised by the interval timer mid-question)."""


def _out_of_time(signum: int, frame: Any) -> None:
    raise OutOfTime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kg.bench.baseline")
    parser.add_argument("--triples", type=Path, required=True, help="N-Triples of the graph")
    parser.add_argument("--scenarios", type=Path, required=True, help="JSON list of scenarios")
    parser.add_argument("--events", type=Path, required=True, help="JSON-lines progress file")
    parser.add_argument("--which-rule-seconds", type=float, default=120.0)
    parser.add_argument("--pyshacl", action="store_true", help="also run pySHACL")
    args = parser.parse_args(argv)

    import rdflib

    from kg.bench.rdflib_store import RdflibStore
    from kg.errors import KgError
    from kg.resolve import Scenario, which_rule

    # keep literals as written ("0.80"^^xsd:decimal), as the store does
    rdflib.NORMALIZE_LITERALS = False
    emit(args.events, {"event": "start", "phase": "parse"})
    started = time.perf_counter()
    graph = rdflib.Graph()
    graph.parse(str(args.triples), format="nt")
    emit(
        args.events,
        {
            "event": "done",
            "phase": "parse",
            "seconds": time.perf_counter() - started,
            "triples": len(graph),
        },
    )

    emit(args.events, {"event": "start", "phase": "which_rule"})
    scenarios = json.loads(args.scenarios.read_text(encoding="utf-8"))
    base = RdflibStore(graph)
    latencies: list[float] = []
    answers: list[str] = []
    unfinished = None  # seconds spent on a question stopped when the time was up
    phase_start = time.perf_counter()
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.setitimer(signal.ITIMER_REAL, args.which_rule_seconds)
    try:
        for data in scenarios:
            scenario = Scenario.from_mapping(data)
            store = base.fresh()  # every scenario asks the graph, as a one-off question does
            t0 = time.perf_counter()
            try:
                digest = answer_digest(which_rule(store, scenario))  # type: ignore[arg-type]
            except KgError as exc:
                digest = f"error: {exc}"
            except OutOfTime:
                unfinished = time.perf_counter() - t0
                break
            latencies.append(time.perf_counter() - t0)
            answers.append(digest)
    except OutOfTime:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    emit(
        args.events,
        {
            "event": "done",
            "phase": "which_rule",
            "seconds": time.perf_counter() - phase_start,
            "latencies": latencies,
            "answers": answers,
            "unfinished": unfinished,
        },
    )

    if args.pyshacl:
        from kg.validate.reference import run_pyshacl
        from kg.validate.shapes import shipped_shapes

        emit(args.events, {"event": "start", "phase": "pyshacl"})
        started = time.perf_counter()
        results = run_pyshacl(graph, shipped_shapes())
        emit(
            args.events,
            {
                "event": "done",
                "phase": "pyshacl",
                "seconds": time.perf_counter() - started,
                "violations": sum(1 for r in results if r.severity == "violation"),
                "results": len(results),
            },
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
