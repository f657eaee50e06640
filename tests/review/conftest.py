"""Fixtures of the review tests: the tiny mask dataset's Manifest and a store bound to it."""
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from labelscope.dataset import load_dataset
from labelscope.review import open_review_store


@pytest.fixture
def mask(mask_dataset):
    return load_dataset(mask_dataset)


@pytest.fixture
def store(tmp_path, mask):
    return open_review_store(tmp_path / "ws", manifest=mask)


# ---- a real, throwaway PostgreSQL server (session scope) ------------------------------------
PG_BIN = Path(os.environ.get("LABELSCOPE_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_user(user: str | None, cmd: str) -> None:
    args = ["su", user, "-s", "/bin/sh", "-c", cmd] if user else ["/bin/sh", "-c", cmd]
    subprocess.run(args, check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    """``postgresql://postgres@127.0.0.1:PORT`` of a fresh cluster (initdb + pg_ctl, run as the
    ordinary user ``pgtest`` when we are root), stopped and removed at the end of the session.
    Skipped without the server binaries, except under CI=true where that is a failure."""
    if not (PG_BIN / "initdb").exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL server binaries missing ({PG_BIN}/initdb): .ci/run installs `postgresql`")
        pytest.skip(f"no PostgreSQL server binaries in {PG_BIN}")
    user = None
    if os.geteuid() == 0:
        user = "pgtest"
        if subprocess.run(["id", user], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "-M", user], check=True, capture_output=True)
    root = Path(tempfile.mkdtemp(prefix="labelscope-pg-"))
    data = root / "data"
    data.mkdir()
    if user:
        shutil.chown(root, user)
        shutil.chown(data, user)
    port = _free_port()
    opts = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
    _as_user(user, f"{PG_BIN}/initdb -D {data} -A trust -U postgres >/dev/null && "
                   f"{PG_BIN}/pg_ctl -D {data} -o '{opts}' -l {data}/log -w start >/dev/null")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        _as_user(user, f"{PG_BIN}/pg_ctl -D {data} -m immediate stop >/dev/null")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server):
    """A fresh, empty database on the session's server: its postgresql:// URL."""
    import psycopg

    name = f"t{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server + "/postgres", autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    return f"{pg_server}/{name}"
