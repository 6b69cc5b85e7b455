"""The persistent Oxigraph store: where it lives, how a build is published atomically.

Layout of a store directory::

    STORE/
      current -> gen-20261122T221500-1234      symlink to the published generation
      gen-20261122T221500-1234/                an Oxigraph (RocksDB) database
      gen-20261122T221500-1234.report.json     its build report
      .staging-…/                              a build in progress (removed on failure)

A build writes a new generation in a staging directory and, only when it succeeded,
swaps the ``current`` symlink with an atomic rename. Readers open ``current`` read-only,
so a failed or running build never disturbs them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox

from kg.errors import StoreError

CURRENT = "current"
ENV_VAR = "YIBAO_STORE"


def default_store_dir() -> Path:
    """``$YIBAO_STORE``, else ``$XDG_DATA_HOME/yibao-kg/store`` (``~/.local/share/…``)."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "yibao-kg" / "store"


def resolve_dir(store_dir: str | Path | None) -> Path:
    return Path(store_dir).expanduser() if store_dir else default_store_dir()


def current_generation(store_dir: Path) -> Path | None:
    link = store_dir / CURRENT
    if not link.is_symlink() and not link.exists():
        return None
    target = link.resolve()
    return target if target.is_dir() else None


def exists(store_dir: str | Path | None) -> bool:
    return current_generation(resolve_dir(store_dir)) is not None


def open_store(store_dir: str | Path | None = None) -> ox.Store:
    """Open the published generation read-only."""
    root = resolve_dir(store_dir)
    gen = current_generation(root)
    if gen is None:
        raise StoreError(
            f"no knowledge graph in {root}: run `yibao build --store {root}` first / "
            f"{root} 中没有知识图谱，请先运行 yibao build"
        )
    try:
        return ox.Store.read_only(str(gen))
    except OSError as exc:
        raise StoreError(f"cannot open the store {gen}: {exc}") from None


def report_path(gen: Path) -> Path:
    """The build report of a generation, next to it."""
    return gen.parent / f"{gen.name}.report.json"


def read_report(store_dir: str | Path | None = None) -> dict[str, object]:
    root = resolve_dir(store_dir)
    gen = current_generation(root)
    if gen is None:
        raise StoreError(f"no knowledge graph in {root}: run `yibao build` first")
    report = report_path(gen)
    if not report.is_file():
        return {}
    return json.loads(report.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@contextmanager
def staging(store_dir: Path) -> Iterator[Path]:
    """A fresh directory for a new generation; removed unless :func:`publish` took it."""
    try:
        store_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the store directory {store_dir}: {exc}") from None
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    path = store_dir / f".staging-{stamp}-{os.getpid()}"
    path.mkdir()
    try:
        yield path
    finally:
        if path.exists():
            shutil.rmtree(path, ignore_errors=True)


def publish(store_dir: Path, staged: Path, report: dict[str, object]) -> Path:
    """Make a staged generation the current one atomically; remove older generations."""
    gen = store_dir / staged.name.replace(".staging-", "gen-", 1)
    os.rename(staged, gen)
    report_path(gen).write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp = store_dir / f".{CURRENT}-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(gen.name, tmp)
    os.replace(tmp, store_dir / CURRENT)
    for old in store_dir.glob("gen-*"):
        if old.name.startswith(gen.name):
            continue
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)
    return gen
