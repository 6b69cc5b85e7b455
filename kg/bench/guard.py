"""Running a measured command in its own process: wall time, peak RSS, time and memory limits.

Pipeline stage: benchmark (``yibao bench``). The build and the baselines run as child
processes so that the peak RSS measured (``os.wait4``'s ``ru_maxrss``) is theirs alone, and so
that a baseline that runs too long or grows too large is killed — with its whole process
group — and reported as such instead of stopping the benchmark or the machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

POLL = 0.25  # seconds between checks of the child's memory and progress

OK, TIMEOUT, MEMORY, FAILED = "ok", "timeout", "memory", "failed"


@dataclass
class Outcome:
    """How a child process ended and what it cost."""

    status: str  # OK, TIMEOUT (a phase ran past the limit), MEMORY (RSS above the limit), FAILED
    seconds: float
    peak_rss: int  # bytes (ru_maxrss of the child)
    returncode: int | None
    events: list[dict[str, Any]] = field(default_factory=list)
    phase: str | None = None  # the phase running when the process was stopped
    log_tail: str = ""

    def done(self, phase: str) -> dict[str, Any] | None:
        """The event of a finished phase, if it finished."""
        return next(
            (e for e in self.events if e.get("event") == "done" and e.get("phase") == phase),
            None,
        )


def rss_of(pid: int) -> int:
    """Resident set size of a process and its descendants in the same group (bytes; Linux)."""
    total = 0
    try:
        pgid = os.getpgid(pid)
    except OSError:
        return 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
        except (OSError, ValueError):
            continue
    return total


def read_events(path: Path | None) -> list[dict[str, Any]]:
    if path is None or not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:  # a line being written
            break
    return out


def run(
    cmd: list[str],
    log: Path,
    timeout: float | None = None,
    memory_limit: int | None = None,
    events: Path | None = None,
) -> Outcome:
    """Run ``cmd``; stop it when a phase exceeds ``timeout`` or its RSS ``memory_limit``.

    With ``events`` (the child's JSON-lines progress file), the time limit applies to each
    phase: it restarts whenever the child reports a new event.
    """
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = started + timeout if timeout else None
    seen = 0
    status = OK
    rusage = None
    wait_status = 0
    while True:
        pid, wait_status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        now = time.perf_counter()
        current = read_events(events)
        if len(current) > seen:
            seen = len(current)
            deadline = now + timeout if timeout else None
        if memory_limit and rss_of(proc.pid) > memory_limit:
            status = MEMORY
        elif deadline is not None and now > deadline:
            status = TIMEOUT
        if status != OK:
            _kill(proc.pid)
            _, wait_status, rusage = os.wait4(proc.pid, 0)
            break
        time.sleep(POLL)
    proc.returncode = os.waitstatus_to_exitcode(wait_status)  # reaped here, not by Popen
    seconds = time.perf_counter() - started
    found = read_events(events)
    if status == OK and proc.returncode != 0:
        status = FAILED
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    if status == FAILED and "MemoryError" in text:
        status = MEMORY
    running = None
    if status != OK:
        started_phases = [e["phase"] for e in found if e.get("event") == "start"]
        finished = {e["phase"] for e in found if e.get("event") == "done"}
        running = next((p for p in reversed(started_phases) if p not in finished), None)
    return Outcome(
        status=status,
        seconds=seconds,
        peak_rss=rusage.ru_maxrss * 1024 if rusage else 0,
        returncode=proc.returncode,
        events=found,
        phase=running,
        log_tail="\n".join(text.splitlines()[-15:]),
    )


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the child leads its own session
        os.killpg(pid, signal.SIGKILL)
