"""``yibao generate``: a synthetic national data set for scale tests."""

from __future__ import annotations

from pathlib import Path

import click

from kg.generate import Plan
from kg.generate import generate as run_generate


@click.command()
@click.option(
    "--institutions", type=click.IntRange(min=1), required=True, help="Number of institutions."
)
@click.option(
    "--regions",
    type=click.IntRange(min=2),
    default=300,
    show_default=True,
    help="Number of pooling regions (taken from the shipped regions table).",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option(
    "--filings",
    type=click.IntRange(min=0),
    default=None,
    help="Number of filing records (default: institutions / 10).",
)
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
def generate(institutions: int, regions: int, seed: int, filings: int | None, out: Path) -> None:
    """Write a synthetic national data set into OUT (build it with `yibao build --data OUT`).

    生成合成的全国数据集（用于规模测试）。
    """
    plan = Plan(
        institutions=institutions,
        regions=regions,
        seed=seed,
        filings=filings if filings is not None else max(institutions // 10, regions),
    )
    manifest = run_generate(out, plan)
    click.echo(
        f"wrote {institutions:,} institutions in {len(manifest['regions'])} pooling regions, "
        f"{manifest['filings']:,} filings to {out}"
    )
    click.echo(
        "planted violations / 故意设置的违规: "
        + ", ".join(f"{k} {v}" for k, v in manifest["planted"].items())
        + f" (total {manifest['planted_total']})"
    )
