"""Memory in use by this process and its children (DataLoader workers), in MiB.

Linux reads ``/proc``: the proportional set size (``Pss``, shared pages split between the
processes that share them, so forked workers are not counted twice) where the kernel gives
it, else the resident set size. Elsewhere the peak RSS from ``resource`` stands in.
"""
from __future__ import annotations

import os
from pathlib import Path

_PROC = Path("/proc")


def _kib_field(path: Path, key: str) -> int | None:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def process_mb(pid: int | None = None) -> float:
    """Memory of one process (Pss, else RSS) in MiB; 0.0 when it cannot be read."""
    pid = os.getpid() if pid is None else pid
    kib = _kib_field(_PROC / str(pid) / "smaps_rollup", "Pss")
    if kib is None:
        kib = _kib_field(_PROC / str(pid) / "status", "VmRSS")
    if kib is None and pid == os.getpid():
        try:
            import resource

            kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        except (ImportError, OSError):
            kib = 0
    return (kib or 0) / 1024.0


def child_pids(pid: int | None = None) -> list[int]:
    """Direct children of ``pid`` (default: this process), from ``/proc/*/stat``."""
    pid = os.getpid() if pid is None else pid
    out: list[int] = []
    try:
        entries = list(_PROC.iterdir())
    except OSError:
        return out
    for d in entries:
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            out.append(int(d.name))
    return out


def process_tree_mb() -> float:
    """Memory of this process plus its direct children (e.g. DataLoader workers), MiB."""
    return process_mb() + sum(process_mb(c) for c in child_pids())
