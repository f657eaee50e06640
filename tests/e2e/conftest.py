"""Browser-test fixtures: a real Streamlit server on a free localhost port and a real Chromium (Playwright)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, require

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("LABELSCOPE_ARTIFACTS", REPO / "artifacts" / "e2e"))
CHROME_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``streamlit run app.py`` against one dataset; can be killed and restarted on the same port."""

    def __init__(self, dataset: Path, log: Path):
        self.dataset, self.log, self.port = dataset, log, free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Server":
        env = {**os.environ, "LABELSCOPE_DATASET": str(self.dataset), "PYTHONUNBUFFERED": "1"}
        cmd = [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.headless", "true",
               "--server.port", str(self.port), "--server.address", "127.0.0.1",
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1) as r:
                    if r.read() == b"ok":
                        return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("streamlit did not answer /_stcore/health within 60 s")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    require(Path(CHROMIUM).exists(), f"{CHROMIUM} is missing (apt-get install -y chromium)")
    return CHROMIUM


@pytest.fixture(scope="session")
def playwright_instance(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture
def new_context(playwright_instance, chromium_path, tmp_path):
    """Factory of independent browser contexts (one per reviewer), each with its own profile."""
    contexts = []

    def make(name: str):
        ctx = playwright_instance.chromium.launch_persistent_context(
            str(tmp_path / f"profile-{name}"), executable_path=chromium_path, headless=True, args=CHROME_ARGS,
            viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        ctx.set_default_timeout(30_000)
        contexts.append(ctx)
        return ctx

    yield make
    for c in contexts:
        c.close()


@pytest.fixture
def shots(request):
    """Save a screenshot per step to artifacts/e2e/<test>/NN-step.png."""
    folder = ARTIFACTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    n = [0]

    def shot(page, step: str) -> Path:
        n[0] += 1
        path = folder / f"{n[0]:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shot
