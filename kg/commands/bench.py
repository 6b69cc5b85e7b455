"""``yibao bench``: measure build, which-rule and validation against rdflib and pySHACL."""

from __future__ import annotations

from pathlib import Path

import click


def _sizes(ctx: click.Context, param: click.Parameter, value: str) -> list[int]:
    try:
        sizes = [int(v.replace("_", "")) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter("comma-separated numbers, e.g. 10000,100000") from None
    if not sizes or min(sizes) < 1:
        raise click.BadParameter("at least one size, each ≥ 1")
    return sizes


@click.command("bench")
@click.option(
    "--sizes",
    default="10000,100000,650000",
    show_default=True,
    callback=_sizes,
    help="Numbers of institutions to measure (comma-separated).",
)
@click.option(
    "--regions",
    type=click.IntRange(min=2),
    default=300,
    show_default=True,
    help="Pooling regions of the generated data sets.",
)
@click.option(
    "--seed", type=int, default=1, show_default=True, help="Seed of the data sets and scenarios."
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("bench-work"),
    show_default=True,
    help="Where data sets, stores, dumps and logs go.",
)
@click.option(
    "--reuse",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A generated data set to reuse when its manifest matches (repeatable).",
)
@click.option(
    "--baseline-timeout",
    type=click.FloatRange(min=1),
    default=900.0,
    show_default=True,
    help="Seconds each baseline phase may take.",
)
@click.option(
    "--baseline-memory",
    type=click.FloatRange(min=0.5),
    default=16.0,
    show_default=True,
    help="GiB of RSS above which a baseline is stopped.",
)
@click.option(
    "--baseline-sample-seconds",
    type=click.FloatRange(min=1),
    default=120.0,
    show_default=True,
    help="The rdflib which-rule sample stops after this time.",
)
@click.option("--no-baseline", is_flag=True, help="Measure only the store (no rdflib, pySHACL).")
@click.option(
    "--scenarios",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Random which-rule scenarios per size.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("BENCHMARKS.md"),
    show_default=True,
    help="The Markdown report.",
)
def bench_command(
    sizes: list[int],
    regions: int,
    seed: int,
    workdir: Path,
    reuse: tuple[Path, ...],
    baseline_timeout: float,
    baseline_memory: float,
    baseline_sample_seconds: float,
    no_baseline: bool,
    scenarios: int,
    output: Path,
) -> None:
    """Benchmark the store against rdflib and pySHACL; write BENCHMARKS.md. 性能基准。

    For each size: generate (or reuse) a data set, build it (time, peak RSS), answer random
    which-rule scenarios, validate the whole graph and one region, then do the same the
    naive way (rdflib in memory, pySHACL) in a child process with time and memory limits.
    """
    from kg.bench import report, runner

    options = runner.Options(
        sizes=sizes,
        regions=regions,
        seed=seed,
        workdir=workdir,
        baseline_timeout=baseline_timeout,
        scenarios=scenarios,
        output=output,
        memory_limit=int(baseline_memory * report.GIB),
        which_rule_seconds=baseline_sample_seconds,
        reuse=list(reuse),
        baseline=not no_baseline,
    )
    results = runner.run(options, echo=lambda line: click.echo(line, err=True))
    text = report.render(results)
    output.write_text(text, encoding="utf-8")
    click.echo(text)
    click.echo(f"wrote / 已写入 {output}", err=True)
