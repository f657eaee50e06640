"""DNS rebinding: the app's WebSocket refuses a Host that is not a localhost name (.streamlit/config.toml)."""
from __future__ import annotations

import base64
import os
import socket

import pytest

from conftest import make_mask_dataset

from .conftest import Server


def upgrade(port: int, host: str) -> str:
    """The status line of a WebSocket upgrade of /_stcore/stream sent with ``Host: host``."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Protocol: streamlit\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
        s.sendall(request.encode())
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n", 1)[0].decode(errors="replace")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = make_mask_dataset(tmp_path_factory.mktemp("hosts") / "mask")
    srv = Server(root, root.parent / "server.log").start()
    yield srv
    srv.kill()


def test_a_foreign_host_header_is_refused(server):
    assert " 101 " in upgrade(server.port, f"localhost:{server.port}")
    assert " 101 " in upgrade(server.port, f"127.0.0.1:{server.port}")
    refused = upgrade(server.port, f"rebind.attacker.example:{server.port}")
    assert " 101 " not in refused and refused.startswith("HTTP/1.1 4"), refused
