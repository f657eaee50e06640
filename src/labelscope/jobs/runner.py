"""Start, read, cancel and wait for background jobs (the runner the CLI and the app share).

A job is ``python -m labelscope <command> ...`` started detached: its own session and process
group (so it outlives the Streamlit script run, the page and even the server that started
it), stdout and stderr into ``WS/jobs/<kind>.log``. The command reports progress through its
ordinary progress callbacks, which write the progress file when they run inside a job (see
``labelscope.jobs.child``).

    from labelscope.jobs import start, read, cancel, wait
    start(ws, "suspects", ["suspects", "data/demo", "--out", "suspects.csv"])
    read(ws, "suspects").done                 # progress, from any process
    cancel(ws, "suspects")                    # SIGTERM to the group; recorded as "cancelled"
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .lock import JobLock, holder, is_held, read_pid
from .state import ENDED, JobPaths, JobState, describe, jobs_dir, log_tail, now_iso, read_state, write_state

ENV_PROGRESS = "LABELSCOPE_JOB"
ENV_LOCK_FD = "LABELSCOPE_JOB_LOCK_FD"

# Children started by this process, reaped when read (a server that starts jobs lives long).
_CHILDREN: dict[str, subprocess.Popen] = {}


class JobBusy(RuntimeError):
    """A job of this kind already runs in this workspace."""

    def __init__(self, message: str, state: JobState | None):
        super().__init__(message)
        self.state = state


def _ended(paths: JobPaths) -> bool:
    state = read_state(paths.progress)
    return state is not None and state.state in ENDED


def _release_wait(paths: JobPaths, seconds: float) -> bool:
    """Wait until nobody holds the lock (at most ``seconds``); True when free."""
    end = time.monotonic() + seconds
    while is_held(paths.lock):
        if time.monotonic() >= end:
            return False
        _reap()
        time.sleep(0.02)
    return True


def _reap() -> None:
    for key, proc in list(_CHILDREN.items()):
        if proc.poll() is not None:
            del _CHILDREN[key]


def start(workspace: Any, kind: str, argv: Sequence[str], *,
          info: dict[str, Any] | None = None, then: Sequence[tuple[str, Sequence[str]]] = (),
          env: dict[str, str] | None = None) -> JobState:
    """Start ``python -m labelscope *argv`` as the workspace's ``kind`` job.

    Parameters
    ----------
    workspace : path or Workspace
        The job's files go to ``WS/jobs/``.
    kind : str
        One job of a kind per workspace (``suspects``, ``faces``, ``embed``, ``train``...).
    argv : list of str
        The ``labelscope`` command line (without ``labelscope``).
    info : dict, optional
        Recorded in the progress file (e.g. the run folder a page should watch).
    then : list of (kind, argv), optional
        Jobs to start when this one ends with success.
    env : dict, optional
        Extra environment for the job.

    Returns the state as written (``starting``, with the child's pid).
    Raises JobBusy when a job of this kind runs already.
    """
    paths = JobPaths.of(workspace, kind)
    lock = JobLock(paths.lock)
    if not lock.acquire():
        # a reader probing the lock holds it for microseconds; a job that recorded its end
        # holds it until its interpreter has exited
        _release_wait(paths, 5.0 if _ended(paths) else 0.05)
        if not lock.acquire():
            cur = read(workspace, kind)
            pid = holder(paths.lock)
            since = f", started {cur.started}" if cur else ""
            raise JobBusy(f"a {kind} job is already running in {Path(paths.lock).parent.parent} "
                          f"(pid {pid}{since}); cancel it with `labelscope jobs cancel ... {kind}`", cur)
    try:
        state = JobState(kind=kind, id=uuid.uuid4().hex[:12], argv=[str(a) for a in argv], log=str(paths.log),
                         info=dict(info or {}), then=[[k, [str(a) for a in a_]] for k, a_ in then])
        paths.cancel.unlink(missing_ok=True)
        write_state(state, paths.progress)
        child_env = {**os.environ, **(env or {}), ENV_PROGRESS: str(paths.progress), ENV_LOCK_FD: str(lock.fd),
                     "PYTHONUNBUFFERED": "1"}
        with open(paths.log, "wb") as log:
            proc = subprocess.Popen([sys.executable, "-m", "labelscope", *state.argv], stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                    pass_fds=(lock.fd,), env=child_env)
        lock.write_pid(proc.pid)
    except BaseException as e:
        lock.release()
        if paths.progress.exists():
            failed = read_state(paths.progress)
            if failed is not None and failed.state == "starting":
                failed.state, failed.ended, failed.error = "failed", now_iso(), f"could not start: {e}"
                write_state(failed, paths.progress)
        raise
    lock.close()  # the child holds the lock now
    _reap()
    _CHILDREN[str(paths.progress)] = proc
    state.pid = state.pgid = proc.pid
    return state


def read(workspace: Any, kind: str) -> JobState | None:
    """The job's state, None when this kind never ran here.

    A job recorded as starting or running whose process is gone (killed, crashed, machine
    rebooted) is recorded as ``failed`` (``cancelled`` when a cancel was asked for).
    """
    _reap()
    paths = JobPaths.of(workspace, kind)
    state = read_state(paths.progress)
    if state is None or not state.active or is_held(paths.lock):
        return state
    again = read_state(paths.progress)  # it may have written its end just now
    if again is None or not again.active:
        return again
    state = again
    if paths.cancel.exists():
        state.state = "cancelled"
    else:
        state.state = "failed"
        tail = log_tail(state, 3)
        state.error = state.error or ("the job process ended without recording a result (killed?)"
                                      + (f"; its log ends: {tail}" if tail else ""))
    state.ended = now_iso()
    write_state(state, paths.progress)
    return state


def list_jobs(workspace: Any) -> list[JobState]:
    """Every job this workspace has a progress file for, most recently started first."""
    d = jobs_dir(workspace)
    if not d.is_dir():
        return []
    found = [read(workspace, p.stem) for p in sorted(d.glob("*.json")) if not p.name.startswith(".")]
    return sorted((s for s in found if s is not None), key=lambda s: s.started, reverse=True)


def cancel(workspace: Any, kind: str, *, timeout: float = 10.0) -> JobState | None:
    """Ask the job to stop (SIGTERM to its process group; SIGKILL after ``timeout`` s).

    The job records ``cancelled`` itself; one that cannot is recorded so here. Returns the
    final state (None when this kind never ran; unchanged when it was not running).
    """
    paths = JobPaths.of(workspace, kind)
    state = read(workspace, kind)
    if state is None or not state.active:
        return state
    paths.cancel.write_text(now_iso() + "\n")
    pid = state.pgid or state.pid or read_pid(paths.lock)
    for sig, wait_s in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        if pid:
            try:
                os.killpg(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        if _release_wait(paths, wait_s):
            break
    return read(workspace, kind)


def wait(workspace: Any, kind: str, *, timeout: float | None = None,
         poll: float = 0.2) -> JobState | None:
    """Block until the job has ended (or ``timeout`` s passed); returns its state."""
    end = None if timeout is None else time.monotonic() + timeout
    while True:
        state = read(workspace, kind)
        if state is not None and state.state in ENDED:
            _release_wait(JobPaths.of(workspace, kind), 10.0)  # the process exits right after
            return state
        if state is None or (end is not None and time.monotonic() >= end):
            return state
        time.sleep(poll)


__all__ = ["JobBusy", "start", "read", "list_jobs", "cancel", "wait", "describe"]
