"""The real workbench, served by `python -m django runserver` on a free loopback port."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def workbench_process(
    tmp_path: Path, env: Mapping[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Migrate a fresh database and serve the workbench; yields its base URL and process."""
    port = free_port()
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ai_tutor.workbench.settings",
        "PORT": str(port),
        "WORKBENCH_DATABASES": json.dumps(
            {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "wb.db")}}
        ),
        **(env or {}),
    }
    django = [sys.executable, "-m", "django"]
    subprocess.run(
        [*django, "migrate", "--run-syncdb", "--verbosity", "0"], cwd=ROOT, env=environ, check=True
    )
    log = (tmp_path / "workbench.log").open("w")
    server = subprocess.Popen(
        [*django, "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(base + "/", timeout=120)
                break
            except requests.ConnectionError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "workbench.log").read_text()) from None
                time.sleep(0.3)
        yield base, server
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


@contextlib.contextmanager
def running_workbench(tmp_path: Path, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Migrate a fresh database and serve the workbench; yields its base URL."""
    with workbench_process(tmp_path, env) as (base, _server):
        yield base
