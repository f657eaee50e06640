"""The progress file of a background job: what it is doing, read by the CLI and the app.

One job of a kind per workspace; its files live in ``WS/jobs/``:

- ``<kind>.json``: the progress file (a :class:`JobState`), replaced atomically on every write,
  so a reader (another process, a page after a reload) sees the old or the new state, never half;
- ``<kind>.lock``: held by the running job process (see ``labelscope.jobs.lock``);
- ``<kind>.log``: the job's stdout and stderr;
- ``<kind>.cancel``: present once a cancel was asked for.
"""
from __future__ import annotations

import json
import os
import re
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import tempfile

KIND_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
ACTIVE = ("starting", "running")
ENDED = ("done", "failed", "cancelled")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def check_kind(kind: str) -> str:
    if not KIND_RE.match(kind or ""):
        raise ValueError(f"job kind {kind!r}: use lowercase letters, digits, '-' or '_' (at most 32)")
    return kind


def jobs_dir(workspace: Any) -> Path:
    """``WS/jobs`` of a workspace (a path or a ``Workspace``)."""
    root = workspace if isinstance(workspace, (str, os.PathLike)) else workspace.root
    return Path(root).expanduser().resolve() / "jobs"


@dataclass(frozen=True)
class JobPaths:
    """The files of one kind of job in one workspace."""

    progress: Path
    lock: Path
    log: Path
    cancel: Path

    @classmethod
    def of(cls, workspace: Any, kind: str) -> "JobPaths":
        d = jobs_dir(workspace)
        check_kind(kind)
        return cls(d / f"{kind}.json", d / f"{kind}.lock", d / f"{kind}.log", d / f"{kind}.cancel")


@dataclass
class JobState:
    """What a job is doing (the progress file's content).

    ``done``/``total`` count ``unit`` in the current ``stage``; ``rate`` is units per second
    since the stage began (work already cached when it began is not counted), ``eta_s`` the
    seconds left at that rate (None when unknown). Times are ISO 8601 UTC.
    """

    kind: str
    id: str
    argv: list[str]
    state: str = "starting"          # starting | running | done | failed | cancelled
    stage: str = ""
    done: int = 0
    total: int = 0
    unit: str = ""
    rate: float = 0.0
    eta_s: float | None = None
    message: str = ""
    pid: int | None = None
    pgid: int | None = None
    started: str = field(default_factory=now_iso)
    updated: str = field(default_factory=now_iso)
    ended: str = ""
    error: str = ""
    exit_code: int | None = None
    log: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    then: list[list[Any]] = field(default_factory=list)   # follow-up jobs: [[kind, argv], ...]

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def fraction(self) -> float:
        """Share of the current stage done, in [0, 1] (0 while the total is unknown)."""
        return min(1.0, self.done / self.total) if self.total > 0 else 0.0

    def elapsed_s(self, *, at: str | None = None) -> float:
        """Seconds from ``started`` to ``ended`` (to now while it runs)."""
        end = _parse(at or self.ended) or time.time()
        start = _parse(self.started) or end
        return max(0.0, end - start)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "JobState":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def _parse(iso: str) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return None


def read_state(path: str | os.PathLike[str]) -> JobState | None:
    """The progress file at ``path``; None when it does not exist."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return JobState.from_dict(json.loads(text))
    except (ValueError, TypeError) as e:
        raise ValueError(f"{p}: not a job progress file ({e}); delete it to start the job again") from e


def write_state(state: JobState, path: str | os.PathLike[str]) -> Path:
    """Replace the progress file atomically (temporary file in the same folder + rename).

    Not fsynced: a progress file lost in a power cut is re-created by the next run, and a
    job writes it twice a second.
    """
    state.updated = now_iso()
    data = json.dumps(state.to_dict(), indent=1, sort_keys=True, default=str) + "\n"
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(data)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def format_seconds(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def describe(state: JobState) -> str:
    """One line for a person: ``embed effnet 300/1,400 images (21%) · 12.3 images/s · ETA 1m30s``."""
    if state.active:
        if state.total > 0:
            unit = f" {state.unit}" if state.unit else ""
            text = f"{state.stage or state.kind} {state.done:,}/{state.total:,}{unit} ({state.fraction:.0%})"
            if state.rate > 0:
                text += f" · {state.rate:.3g} {state.unit or 'items'}/s"
            if state.eta_s is not None:
                text += f" · ETA {format_seconds(state.eta_s)}"
            elif state.done >= state.total:
                text += " · next step starting"  # e.g. a model loading before the next stage reports
        else:
            text = state.message or state.stage or ("starting" if state.state == "starting" else "running")
        return text + f" · {format_seconds(state.elapsed_s())} so far"
    took = format_seconds(state.elapsed_s())
    if state.state == "done":
        return f"finished in {took}" + (f": {state.message}" if state.message else "")
    if state.state == "cancelled":
        return f"cancelled after {took}"
    return f"failed after {took}: {state.error or 'no error message'}"


def log_tail(state: JobState, lines: int = 20) -> str:
    """The last ``lines`` lines of the job's log ("" when there is none)."""
    if not state.log:
        return ""
    try:
        with open(state.log, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    # progress lines redrawn in place end in \r: keep the last drawing of each
    rows = [next((part for part in reversed(r.split("\r")) if part.strip()), "") for r in text.split("\n")]
    return "\n".join([r.rstrip() for r in rows if r.strip()][-lines:])
