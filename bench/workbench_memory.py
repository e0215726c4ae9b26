"""Resident memory of a real workbench process (`python -m django runserver`) when fresh,
after its first question, and after many questions from many learners, each signed in
through the workbench's development identity provider, against the loopback provider."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import ROOT, loopback_provider, question, rss_kib


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def measure(learners: int = 50, questions: int = 1000) -> dict[str, Any]:
    import requests

    rng = random.Random(6)
    port = _free_port()
    with tempfile.TemporaryDirectory() as folder, loopback_provider() as provider:
        environ = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "ai_tutor.workbench.settings",
            "PORT": str(port),
            "WORKBENCH_DATABASES": json.dumps(
                {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": f"{folder}/wb.db"}}
            ),
            "AI_TUTOR_PROVIDER": "openai",
            "AI_TUTOR_MODEL": "loopback-model",
            "OPENAI_BASE_URL": provider.url + "/v1",
            "OPENAI_API_KEY": "sk-bench",
        }
        django = [sys.executable, "-m", "django"]
        subprocess.run(
            [*django, "migrate", "--run-syncdb", "--verbosity", "0"],
            cwd=ROOT,
            env=environ,
            check=True,
        )
        log_path = Path(folder) / "workbench.log"
        with log_path.open("w") as log:
            server = subprocess.Popen(
                [*django, "runserver", f"127.0.0.1:{port}", "--noreload"],
                cwd=ROOT,
                env=environ,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                return _drive(requests, server, port, learners, questions, rng, log_path)
            finally:
                server.terminate()
                server.wait(timeout=20)


def _drive(
    requests: Any,
    server: Any,
    port: int,
    learners: int,
    questions: int,
    rng: random.Random,
    log_path: Path,
) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            requests.get(base + "/", timeout=60)
            break
        except requests.ConnectionError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log_path.read_text()) from None
            time.sleep(0.3)

    session = requests.Session()
    page_url = base + "/scenario/ai_tutor.0/"
    page = session.get(page_url + "?student=learner_0", timeout=60).text
    usage_id = re.search(r"data-usage='([^']*\.ai_tutor\.[^']*)'", page).group(1)
    headers = {"X-CSRFToken": session.cookies["csrftoken"], "Referer": page_url}
    fresh = rss_kib(server.pid)

    def ask(learner: int) -> int:
        url = f"{base}/handler/{usage_id}/ask/?student=learner_{learner}"
        response = session.post(url, json={"question": question(rng)}, headers=headers, timeout=60)
        return response.status_code

    first = ask(0)
    after_first = rss_kib(server.pid)
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    for index in range(1, questions):
        status = ask(index % learners)
        statuses[status] = statuses.get(status, 0) + 1
    elapsed = time.perf_counter() - started
    statuses[first] = statuses.get(first, 0) + 1
    after = rss_kib(server.pid)
    return {
        "learners": learners,
        "questions": questions,
        "statuses": {str(k): v for k, v in statuses.items()},
        "rss_fresh_kib": fresh,
        "rss_after_first_kib": after_first,
        "rss_after_kib": after,
        "seconds": elapsed,
    }
