"""One job of a kind per workspace: an exclusive ``flock`` on ``WS/jobs/<kind>.lock``.

The lock is held by the job process for its whole life: the starter takes it, hands the open
file to the child it starts (the child inherits the descriptor, and with it the lock) and
closes its own copy. The kernel drops the lock when the job process ends, however it ends
(exit, crash, SIGKILL), so a lock file left behind by a dead process holds no lock and the
next start simply takes it over. The file also holds the job's pid, for ``holder()`` and
for cancelling; a pid written there whose process is gone is only a stale note.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path


class JobLock:
    """A non-blocking exclusive lock on ``path`` (created when missing)."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock; False when a live process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def write_pid(self, pid: int) -> None:
        """Record the pid of the process that holds (or will hold) the lock."""
        assert self.fd is not None, "write_pid() needs the lock"
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{pid}\n".encode(), 0)

    def close(self) -> None:
        """Close this descriptor. A child that inherited it keeps holding the lock."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def release(self) -> None:
        """Unlock (for every holder of this open file) and close."""
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            self.close()


def read_pid(path: str | os.PathLike[str]) -> int | None:
    """The pid written in the lock file (None when absent or empty)."""
    try:
        text = Path(path).read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def is_held(path: str | os.PathLike[str]) -> bool:
    """True while a live process holds the lock at ``path``."""
    if not Path(path).exists():
        return False
    probe = JobLock(path)
    if probe.acquire():
        probe.release()
        return False
    return True


def pid_alive(pid: int | None) -> bool:
    """True when ``pid`` names a running process (not a zombie waiting to be reaped)."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except OSError:
        return True


def holder(path: str | os.PathLike[str]) -> int | None:
    """The pid of the live process holding the lock, else None (free, or a stale file)."""
    if not is_held(path):
        return None
    pid = read_pid(path)
    return pid if pid_alive(pid) else -1
