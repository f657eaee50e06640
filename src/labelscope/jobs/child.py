"""The job's own side: run a command inside a job and write its progress file.

``labelscope.cli.main`` runs every command through :func:`run_in_job`. Outside a job (no
``LABELSCOPE_JOB`` in the environment) that is a plain call and :func:`report` does nothing;
inside one, the command's ordinary progress callbacks (``ProgressLine``, the suspects stage
printer, the training loop's epoch callback) call :func:`report`, which keeps the progress
file up to date (at most twice a second, and at every stage change and stage end).
SIGTERM (what ``cancel`` sends) stops the command and the job records ``cancelled``.
"""
from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from .state import JobState, log_tail, now_iso, read_state, write_state

WRITE_EVERY_S = 0.5


class JobCancelled(BaseException):
    """Raised in the job process by SIGTERM (a BaseException, so ``except Exception`` lets it through)."""


class Reporter:
    """Keeps one job's progress file; one per job process."""

    def __init__(self, path: Path, state: JobState):
        self.path = path
        self.state = state
        self.error = ""
        self._stage: str | None = None
        self._t0 = 0.0
        self._done0 = 0
        self._last = 0.0

    def write(self) -> None:
        write_state(self.state, self.path)
        self._last = time.monotonic()

    def begin(self) -> None:
        s = self.state
        s.state, s.pid, s.pgid, s.message = "running", os.getpid(), os.getpgid(0), ""
        self.write()

    def progress(self, stage: str, done: int, total: int, unit: str = "images") -> None:
        now = time.monotonic()
        s = self.state
        first = stage != self._stage
        if first:
            self._stage, self._t0, self._done0 = stage, now, done
        work, elapsed = done - self._done0, now - self._t0
        rate = work / elapsed if elapsed > 0 and work > 0 else 0.0
        s.stage, s.done, s.total, s.unit = stage, int(done), int(total), unit
        s.rate = round(rate, 3)
        s.eta_s = round((total - done) / rate, 1) if rate > 0 and done < total else None
        if first or done >= total or now - self._last >= WRITE_EVERY_S:
            self.write()

    def note(self, message: str) -> None:
        self.state.message = message
        if time.monotonic() - self._last >= WRITE_EVERY_S:
            self.write()

    def set_info(self, **values: Any) -> None:
        self.state.info.update(values)
        self.write()

    def end(self, state: str, *, exit_code: int, error: str = "") -> None:
        s = self.state
        s.state, s.exit_code, s.ended = state, exit_code, now_iso()
        s.eta_s = None
        s.error = error if state == "failed" else ""
        self.write()


_CURRENT: Reporter | None = None


def report(stage: str, done: int, total: int, *, unit: str = "images") -> None:
    """Progress of the running job's current ``stage`` (a no-op outside a job)."""
    if _CURRENT is not None:
        _CURRENT.progress(stage, done, total, unit)


def note(message: str) -> None:
    """A line for the person watching (shown with the progress; no-op outside a job)."""
    if _CURRENT is not None:
        _CURRENT.note(message)


def note_error(message: str) -> None:
    """The error the job will record if it fails (what the command told the user)."""
    if _CURRENT is not None:
        _CURRENT.error = message


def set_info(**values: Any) -> None:
    """Facts a watcher needs (e.g. ``run_dir``), kept in the progress file's ``info``."""
    if _CURRENT is not None:
        _CURRENT.set_info(**values)


def in_job() -> bool:
    return _CURRENT is not None


def _on_sigterm(signum, frame) -> None:  # pragma: no cover - exercised through cancel()
    raise JobCancelled()


def run_in_job(main: Callable[[], int]) -> int:
    """``main()`` as the job named by ``$LABELSCOPE_JOB``, or a plain call outside a job."""
    from .runner import ENV_LOCK_FD, ENV_PROGRESS

    global _CURRENT
    path = os.environ.pop(ENV_PROGRESS, "")
    fd = os.environ.pop(ENV_LOCK_FD, "")
    if not path:
        return main()
    if fd.isdigit():
        os.set_inheritable(int(fd), False)  # the lock stays with this process, not with what it execs
    progress = Path(path)
    state = read_state(progress) or JobState(kind=progress.stem, id="", argv=sys.argv[1:], log="")
    rep = _CURRENT = Reporter(progress, state)
    cancel_marker = progress.with_suffix(".cancel")
    signal.signal(signal.SIGTERM, _on_sigterm)
    rep.begin()
    error = ""
    try:
        rc = main()
    except JobCancelled:
        rc = 143
    except KeyboardInterrupt:
        rc = 130
    except SystemExit as e:  # argparse errors, sys.exit in a command
        rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if isinstance(e.code, str):
            error = e.code
    except BaseException as e:
        traceback.print_exc()
        rc, error = 1, f"{type(e).__name__}: {e}"
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sys.stdout.flush()
    sys.stderr.flush()
    if rc != 0 and cancel_marker.exists():
        rep.end("cancelled", exit_code=rc)
    elif rc != 0:
        error = error or rep.error or log_tail(state, 1) or f"exit code {rc}"
        rep.end("failed", exit_code=rc, error=error)
    else:
        rep.end("done", exit_code=0)
        _follow_up(progress, state)
    _CURRENT = None
    return rc


def _follow_up(progress: Path, state: JobState) -> None:
    """Start the jobs this one names in ``then`` (each in the same workspace)."""
    if not state.then:
        return
    from .runner import JobBusy, start

    ws = progress.parent.parent
    for kind, argv in state.then:
        try:
            start(ws, kind, argv)
            print(f"labelscope: started the follow-up {kind} job", file=sys.stderr)
        except (JobBusy, OSError, ValueError) as e:
            print(f"labelscope: follow-up {kind} job not started: {e}", file=sys.stderr)
