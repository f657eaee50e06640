"""The task a scan worker runs: features of one chunk of images. Light imports on purpose
(NumPy, Pillow, OpenCV; no pandas), so pool workers start fast."""
from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import Any, Iterator, Sequence

from .features import SCANNER_VERSION, compute_features
from .pixels import release_scratch


def scan_chunk(root: str, items: Sequence[tuple[str, int, int, int]]) -> list[dict[str, Any]]:
    """Feature rows of ``items`` = ``[(image_id, file_size, mtime_ns, ctime_ns), ...]`` under ``root``.

    The cache key (size and mtime as stat'ed before the decode) goes into each row, so a file
    that changes while it is scanned is scanned again next time.
    """
    rows = []
    with pillow_block_cache():
        for image_id, size, mtime, ctime in items:
            row = compute_features(os.path.join(root, image_id))
            row.update(image_id=image_id, file_size=size, mtime_ns=mtime, ctime_ns=ctime,
                       scanner_version=SCANNER_VERSION)
            rows.append(row)
    return rows


@contextlib.contextmanager
def pillow_block_cache(blocks: int = 4) -> Iterator[None]:
    """Reuse image memory within a chunk (Pillow's block cache, our work buffers): fresh pages
    can cost more than the decoding; both are released when the chunk ends."""
    from PIL import Image

    old = Image.core.get_blocks_max()
    Image.core.set_blocks_max(max(old, blocks))
    try:
        yield
    finally:
        Image.core.set_blocks_max(old)
        release_scratch()


def worker_init(owner: int | None = None) -> None:
    """Process-pool initializer: one OpenCV thread, since there is one process per core; and the
    worker dies with the scan that started it (``owner``, that process's pid), even when that
    one is SIGKILLed and never shuts its pool down."""
    import cv2

    cv2.setNumThreads(1)
    if owner:
        die_with(owner)


def die_with(owner: int, *, every_s: float = 1.0) -> None:
    """End this process when ``owner`` is gone: at once when the kernel can tell (Linux
    ``PR_SET_PDEATHSIG`` on the direct parent, the forkserver that exits with the scan), and
    otherwise within ``every_s`` (a daemon thread polling whether ``owner`` still exists)."""
    import signal
    import threading

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def watch() -> None:
        while alive(owner):
            time.sleep(every_s)
        os._exit(1)

    if not alive(owner):
        os._exit(1)
    threading.Thread(target=watch, name="labelscope-die-with-owner", daemon=True).start()
