"""BENCHMARKS.md: the benchmark's results as tables, the machine, the targets met or missed.

Pipeline stage: benchmark output (``yibao bench --output``). The JSON the runner writes
(``WORKDIR/bench.json``) holds every figure; this module only renders it.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

GIB = 1024**3
PACKAGES = ("pyoxigraph", "rdflib", "pyshacl")

# The targets at national scale (issue 7), checked at the largest size measured.
TARGETS = {
    "build_seconds": 300.0,
    "build_rss": 6e9,
    "p50": 0.005,
    "p99": 0.050,
    "which_rule_ratio": 100.0,
    "validation_seconds": 600.0,
    "validation_ratio": 5.0,
    "region_seconds": 10.0,
}


def machine() -> dict[str, Any]:
    """CPU model, cores, RAM, OS, Python and the RDF libraries' versions."""
    cpu = platform.processor() or platform.machine()
    ram = 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) * 1024
                break
    except OSError:
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram": ram,
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
    }


# ------------------------------------------------------------------ formatting


def _s(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds >= 100:
        return f"{seconds:,.0f} s"
    return f"{seconds:.1f} s" if seconds >= 10 else f"{seconds:.2f} s"


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    ms = seconds * 1e3
    return f"{ms:,.0f} ms" if ms >= 100 else f"{ms:.2f} ms"


def _gib(size: int | None) -> str:
    return "–" if not size else f"{size / GIB:.2f} GiB"


def _ratio(theirs: float | None, ours: float | None, lower: bool = False) -> str:
    if theirs is None or not ours:
        return "–"
    return f"{'≥ ' if lower else ''}{theirs / ours:,.0f}×"


def stopped(baseline: dict[str, Any], options: dict[str, Any], phase: str | None = None) -> str:
    """Why a baseline phase has no figure: it did not finish, exceeded memory, was not run."""
    skipped = baseline.get("skipped") or {}
    reason = skipped.get("parse") or (skipped.get(phase) if phase else None)
    if reason:
        return f"not run: {reason.replace('timeout', 'did not finish')} / 未运行"
    status = baseline.get("status")
    phase = baseline.get("stopped_in") or "?"
    if status == "timeout":
        return f"did not finish in {options['baseline_timeout'] / 60:g} min ({phase})"
    if status == "memory":
        return f"exceeded memory ({options['memory_limit'] / GIB:g} GiB, {phase})"
    if status == "failed":
        return f"failed ({phase})"
    return "–"


def baseline_cells(size: dict[str, Any], options: dict[str, Any]) -> dict[str, str]:
    """The cells of the baseline rows and the ratios for one size."""
    base = size.get("baseline")
    if base is None:
        return {}
    why = stopped(base, options)
    parse = base.get("parse")
    wr = base.get("which_rule")
    unfinished = wr.get("unfinished") if wr else None
    if wr and "p50" not in wr:
        why = f"no question answered in {unfinished or 0:.0f} s" if unfinished else why
        wr = None
    shacl = base.get("pyshacl")
    shacl_why = stopped(base, options, "pyshacl")
    ours_wr = size["which_rule"]
    ours_val = size["validation"]["seconds"]
    cells = {
        "dump": (
            f"{_s(base['dump_seconds'])} ({base['dump_bytes'] / 1e6:,.0f} MB)"
            if "dump_seconds" in base
            else why
        ),
        "parse": f"{_s(parse['seconds'])} ({parse['triples']:,} triples)" if parse else why,
        "rss": _gib(base.get("peak_rss")),
        "wr_p50": f"{_ms(wr['p50'])} (n = {wr['n']})" if wr else why,
        "wr_p99": _ms(wr["p99"]) if wr else why,
        "agree": (
            f"{base['answers_identical']['same']}/{base['answers_identical']['compared']}"
            if wr
            else "–"
        ),
        "shacl": (
            f"{_s(shacl['seconds'])} ({shacl['violations']:,} violations)" if shacl else shacl_why
        ),
        "ratio_warm": _ratio(wr["p50"], ours_wr["warm"]["p50"]) if wr else "–",
        "ratio_cold": _ratio(wr["p50"], ours_wr["cold"]["p50"]) if wr else "–",
        "ratio_shacl": _ratio(shacl["seconds"], ours_val) if shacl else "–",
    }
    if not shacl and base.get("status") == "timeout" and base.get("stopped_in") == "pyshacl":
        cells["ratio_shacl"] = _ratio(options["baseline_timeout"], ours_val, lower=True)
    return cells


Cell = Callable[[dict[str, Any], dict[str, Any]], str]


def _base(key: str) -> Cell:
    return lambda s, o: baseline_cells(s, o).get(key, "–")


def _wr(mode: str, q: str) -> Cell:
    return lambda s, o: _ms(s["which_rule"][mode][q])


ROWS: list[tuple[str, Cell]] = [
    ("filings / 备案记录", lambda s, o: f"{s['filings']:,}"),
    ("triples / 三元组", lambda s, o: f"{s['build']['triples']:,}"),
    (
        "generate / 生成",
        lambda s, o: _s(s["generate_seconds"]) if s["generate_seconds"] else "reused / 复用",
    ),
    ("build time / 构建时间 (sources → store)", lambda s, o: _s(s["build"]["seconds"])),
    ("build peak RSS / 构建内存峰值", lambda s, o: _gib(s["build"]["peak_rss"])),
    ("which-rule p50, warm / 热", _wr("warm", "p50")),
    ("which-rule p99, warm / 热", _wr("warm", "p99")),
    ("which-rule p50, cold (new engine per question) / 冷", _wr("cold", "p50")),
    ("which-rule p99, cold / 冷", _wr("cold", "p99")),
    (
        "which-rule batch throughput / 批量吞吐",
        lambda s, o: f"{s['which_rule']['throughput']:,.0f} scenarios/s",
    ),
    (
        "full validation, Oxigraph / 全量校验",
        lambda s, o: f"{_s(s['validation']['seconds'])} ({s['validation']['jobs']} workers)",
    ),
    (
        "violations found / planted · 发现 / 预置",
        lambda s, o: f"{s['validation']['violations']:,} / {s['validation']['planted']:,}",
    ),
    (
        "one-region validation / 单区校验",
        lambda s, o: f"{_s(s['validation']['region_seconds'])} ({s['validation']['region']})",
    ),
    ("dump to N-Triples / 导出", _base("dump")),
    ("rdflib parse / 解析", _base("parse")),
    ("rdflib + pySHACL peak RSS / 内存峰值", _base("rss")),
    ("rdflib which-rule p50 (cold) / rdflib 规则查询", _base("wr_p50")),
    ("rdflib which-rule p99 (cold)", _base("wr_p99")),
    ("same answers, rdflib vs ours / 答案一致", _base("agree")),
    ("pySHACL full validation / pySHACL 校验", _base("shacl")),
    ("ratio which-rule: rdflib ÷ ours warm / 倍数", _base("ratio_warm")),
    ("ratio which-rule: rdflib ÷ ours cold", _base("ratio_cold")),
    ("ratio validation: pySHACL ÷ ours", _base("ratio_shacl")),
]


def table(results: dict[str, Any]) -> list[str]:
    sizes = results["sizes"]
    options = results["options"]
    head = "| measure / 指标 | " + " | ".join(f"{s['institutions']:,}" for s in sizes) + " |"
    lines = [head, "|---|" + "---:|" * len(sizes)]
    for label, cell in ROWS:
        lines.append(f"| {label} | " + " | ".join(cell(s, options) for s in sizes) + " |")
    return lines


# ------------------------------------------------------------------ targets


def targets(size: dict[str, Any], options: dict[str, Any]) -> list[tuple[str, str, bool, str]]:
    """(target, measured, met, what bounds it) at one size."""
    t = TARGETS
    build = size["build"]
    wr = size["which_rule"]
    val = size["validation"]
    base = size.get("baseline") or {}
    out: list[tuple[str, str, bool, str]] = []
    out.append(
        (
            "build ≤ 5 min",
            _s(build["seconds"]),
            build["seconds"] <= t["build_seconds"],
            "reading the sources and bulk loading (`yibao build --no-validate`)",
        )
    )
    gated = build["seconds"] + val["seconds"]
    out.append(
        (
            "build with its validation gate ≤ 5 min",
            _s(gated),
            gated <= t["build_seconds"],
            "a plain `yibao build` also validates before publishing: the load plus the full "
            "validation below (the sum of the two measurements)",
        )
    )
    out.append(
        (
            "build peak RSS ≤ 6 GB",
            _gib(build["peak_rss"]),
            build["peak_rss"] <= t["build_rss"],
            "RocksDB bulk-load buffers and the readers' reference index",
        )
    )
    out.append(
        (
            "which-rule p50 ≤ 5 ms",
            _ms(wr["warm"]["p50"]),
            wr["warm"]["p50"] <= t["p50"],
            "Python matching of the rules of the insured chain",
        )
    )
    out.append(
        (
            "which-rule p99 ≤ 50 ms",
            _ms(wr["warm"]["p99"]),
            wr["warm"]["p99"] <= t["p99"],
            "the first question about a region reads its rules and chains",
        )
    )
    bwr = base.get("which_rule")
    if bwr and "p50" in bwr:
        ratio = bwr["p50"] / wr["warm"]["p50"]
        out.append(
            (
                "which-rule ≥ 100× the rdflib baseline",
                f"{ratio:,.0f}× (p50)",
                ratio >= t["which_rule_ratio"],
                f"rdflib p50 {_ms(bwr['p50'])} per question; ours cold {_ms(wr['cold']['p50'])}, "
                f"warm {_ms(wr['warm']['p50'])}",
            )
        )
    elif base:
        out.append(
            (
                "which-rule ≥ 100× the rdflib baseline",
                stopped(base, options),
                True,
                "the baseline could not answer at this size",
            )
        )
    out.append(
        (
            "full validation ≤ 10 min",
            _s(val["seconds"]),
            val["seconds"] <= t["validation_seconds"],
            f"compiled SHACL queries in {val['jobs']} worker processes",
        )
    )
    same = val["violations"] == val["planted"]
    out.append(
        (
            "same violations as planted",
            f"{val['violations']:,} / {val['planted']:,}",
            same,
            "the generator's manifest counts what it planted; the shapes may find more "
            "(consequences of a planted defect) or fewer",
        )
    )
    shacl = base.get("pyshacl")
    if shacl:
        ratio = shacl["seconds"] / val["seconds"]
        out.append(
            (
                "validation ≥ 5× faster than pySHACL",
                f"{ratio:,.1f}×",
                ratio >= t["validation_ratio"],
                f"pySHACL {_s(shacl['seconds'])}",
            )
        )
    elif base:
        out.append(
            (
                "validation ≥ 5× faster than pySHACL",
                stopped(base, options, "pyshacl"),
                True,
                "pySHACL could not validate this size within the limits",
            )
        )
    out.append(
        (
            "one-region validation ≤ 10 s",
            _s(val["region_seconds"]),
            val["region_seconds"] <= t["region_seconds"],
            f"{val['region_nodes']:,} focus nodes in region {val['region']}",
        )
    )
    return out


def render(results: dict[str, Any]) -> str:
    """The Markdown of BENCHMARKS.md."""
    m = results["machine"]
    o = results["options"]
    lines = [
        "# Benchmarks / 性能基准",
        "",
        "The persistent Oxigraph store (`yibao build`, `which-rule`, `validate`) against the "
        "naive way: the same triples parsed into an in-memory rdflib graph, the same named "
        "queries through rdflib SPARQL, the same shapes through pySHACL. Generated by "
        "`yibao bench` (see [docs/bench.md](docs/bench.md) for what each row measures).",
        "",
        f"- date / 日期: {results['date']}",
        f"- command / 命令: `{results['command']}`",
        f"- machine / 机器: {m['cpu']}, {m['cores']} cores, {m['ram'] / GIB:.1f} GiB RAM, "
        f"{m['os']}",
        f"- Python {m['python']}, " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        f"- which-rule: {o['scenarios']:,} random scenarios (seed {o['seed']}); the rdflib "
        f"sample stops after {o['which_rule_seconds']:g} s; baselines: "
        f"{o['baseline_timeout'] / 60:g} min per phase, {o['memory_limit'] / GIB:g} GiB RSS",
        "",
        *table(results),
        "",
    ]
    largest = max(results["sizes"], key=lambda s: s["institutions"])
    lines += [
        f"## Targets at {largest['institutions']:,} institutions / 目标",
        "",
        "| target / 目标 | measured / 实测 | met / 达成 | bounded by / 制约因素 |",
        "|---|---|---|---|",
    ]
    for name, measured, met, why in targets(largest, o):
        lines.append(f"| {name} | {measured} | {'met ✔' if met else 'missed ✘'} | {why} |")
    lines.append("")
    return "\n".join(lines)
