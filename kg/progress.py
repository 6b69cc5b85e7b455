"""Progress bars for long steps, on stderr, only when it is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn


class Step(Protocol):
    def advance(self, n: int = 1) -> None: ...


class _Quiet:
    def advance(self, n: int = 1) -> None:
        pass


class _Bar:
    def __init__(self, progress: Progress, task: int) -> None:
        self._progress, self._task = progress, task

    def advance(self, n: int = 1) -> None:
        self._progress.advance(self._task, n)  # type: ignore[arg-type]


class Reporter:
    """Make one progress line per step; silent when disabled or stderr is not a terminal."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._progress: Progress | None = None

    @contextmanager
    def session(self) -> Iterator[Reporter]:
        if not self.enabled:
            yield self
            return
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,} triples"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        with self._progress:
            yield self
        self._progress = None

    @contextmanager
    def step(self, description: str, total: int | None = None) -> Iterator[Step]:
        if self._progress is None:
            yield _Quiet()
            return
        task = self._progress.add_task(description, total=total)
        yield _Bar(self._progress, task)
        self._progress.update(task, total=self._progress.tasks[task].completed)  # type: ignore[index]
