"""What ``yibao demo`` shows: real answers from the default graph."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from kg import lookup, store
from kg.build import BuildOptions, build


def run(store_dir: Path | None) -> None:
    console = Console()
    if not store.exists(store_dir):
        console.print("building the default knowledge graph / 正在构建默认知识图谱 …")
        generation, report = build(store_dir, BuildOptions(data_dirs=[]))
        console.print(
            f"built {report.total_triples:,} triples in {report.seconds:.1f} s → {generation}"
        )
    db = store.open_store(store_dir)
    for name in ("佛山", "仙桃市", "Beijing"):
        r = lookup.region(db, name)
        console.print(
            f"region '{name}' → {r.code} {r.name} ({r.name_en}); level {r.level}; "
            f"pooling region {r.pooling_code}; province {r.province_code}"
        )
