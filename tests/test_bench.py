"""`yibao bench`: every row of the report, sane figures, the baselines guarded and correct.

Speed targets are checked by the benchmark itself (BENCHMARKS.md), never here.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kg import query
from kg.bench import guard
from kg.bench.rdflib_store import rdflib_text
from kg.bench.report import ROWS
from kg.bench.runner import quantiles


def test_every_named_query_runs_in_rdflib_after_lateral_is_inlined() -> None:
    from rdflib import Namespace
    from rdflib.plugins.sparql import prepareQuery

    from kg.vocab import PREFIXES

    ns = {k: Namespace(v) for k, v in PREFIXES.items()}
    lateral = [q for q in query.catalogue().values() if "LATERAL" in q.text]
    assert lateral, "no named query uses LATERAL: the rewriting is no longer needed"
    for q in query.catalogue().values():
        text = rdflib_text(q.text)
        assert not re.search(r"\bLATERAL\s*\{", text)
        prepareQuery(text, initNs=ns)  # raises on a syntax error


def test_a_pattern_before_an_inlined_block_gets_its_dot() -> None:
    text = 'SELECT * WHERE { ?s ?p ?o LATERAL { ?o ?q "}" } }'
    assert " ".join(rdflib_text(text).split()) == 'SELECT * WHERE { ?s ?p ?o . ?o ?q "}" }'


def test_iris_strings_and_comments_do_not_end_an_inlined_block() -> None:
    text = (
        "SELECT * WHERE { ?s ?p ?o # a comment with } and {\n"
        "  LATERAL { ?o <http://www.w3.org/2000/01/rdf-schema#label> ?l .\n"
        "    FILTER (?l < ?m && ?l != 'a}b') } }"
    )
    assert " ".join(rdflib_text(text).split()) == (
        "SELECT * WHERE { ?s ?p ?o # a comment with } and { . "
        "?o <http://www.w3.org/2000/01/rdf-schema#label> ?l . FILTER (?l < ?m && ?l != 'a}b') }"
    )


def test_quantiles() -> None:
    q = quantiles([0.004, 0.001, 0.002, 0.003, 0.1])
    assert q["p50"] == 0.003 and q["p99"] == 0.1 and q["n"] == 5 and q["max"] == 0.1


def test_a_child_past_its_time_is_stopped(tmp_path: Path) -> None:
    out = guard.run(
        [sys.executable, "-c", "import time; time.sleep(60)"], tmp_path / "log", timeout=1
    )
    assert out.status == guard.TIMEOUT
    assert out.seconds < 30


def test_a_child_past_its_memory_is_stopped(tmp_path: Path) -> None:
    grow = "import time\nb = []\nwhile True:\n    b.append(bytearray(10**7)); time.sleep(0.01)"
    out = guard.run([sys.executable, "-c", grow], tmp_path / "log", memory_limit=300 * 2**20)
    assert out.status == guard.MEMORY
    assert out.peak_rss > 300 * 2**20


def test_a_failing_child_is_reported_with_its_peak_rss(tmp_path: Path) -> None:
    out = guard.run([sys.executable, "-c", "raise SystemExit(3)"], tmp_path / "log")
    assert out.status == guard.FAILED and out.returncode == 3
    assert out.peak_rss > 0


@pytest.fixture(scope="module")
def tiny_bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    work = tmp_path_factory.mktemp("bench")
    output = work / "BENCHMARKS.md"
    cmd = [
        sys.executable,
        "-m",
        "kg",
        "bench",
        "--sizes",
        "300",
        "--regions",
        "4",
        "--scenarios",
        "6",
        "--workdir",
        str(work),
        "--baseline-timeout",
        "20",
        "--baseline-sample-seconds",
        "8",
        "--output",
        str(output),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((work / "bench.json").read_text(encoding="utf-8"))
    return output.read_text(encoding="utf-8"), results


def test_the_report_has_every_row_machine_and_command(tiny_bench: tuple[str, dict]) -> None:
    text, _ = tiny_bench
    for label, _cell in ROWS:
        row = next((line for line in text.splitlines() if line.startswith(f"| {label} |")), None)
        assert row is not None, label
        assert row.rstrip("|").split("|")[-1].strip(), label  # a value for the size
    assert "yibao bench --sizes 300 --regions 4" in text
    assert "pyoxigraph" in text and "rdflib" in text and "pyshacl" in text
    assert "## Targets at 300 institutions" in text
    for target in ("build ≤ 5 min", "which-rule p50 ≤ 5 ms", "one-region validation ≤ 10 s"):
        assert target in text


def test_the_figures_are_sane(tiny_bench: tuple[str, dict]) -> None:
    _, results = tiny_bench
    (size,) = results["sizes"]
    assert size["institutions"] == 300
    assert size["build"]["triples"] > 100_000  # the default data and the generated set
    assert 10 * 2**20 < size["build"]["peak_rss"] < 16 * 2**30
    wr = size["which_rule"]
    for mode in ("cold", "warm"):
        assert wr[mode]["n"] >= 6
        assert 0 < wr[mode]["p50"] <= wr[mode]["p99"] <= wr[mode]["max"]
    assert wr["throughput"] > 0 and wr["errors"] < 6
    val = size["validation"]
    assert val["violations"] >= 0 and val["planted"] == size["planted"]
    assert val["region_nodes"] > 0 and val["region_seconds"] > 0
    base = size["baseline"]
    assert base["parse"]["triples"] > 100_000
    # the naive way answered at least one question, and the same way as the store
    assert base["which_rule"]["n"] >= 1
    assert base["answers_identical"]["same"] == base["answers_identical"]["compared"] >= 1
