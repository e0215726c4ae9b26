"""Resident memory of a real workbench process (`python -m django runserver`) when fresh,
after its first question, and after many questions from many learners, each signed in
through the workbench's development identity provider, against the loopback provider."""

from __future__ import annotations

import random
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import loopback_provider, question, rss_kib


def measure(learners: int = 50, questions: int = 1000) -> dict[str, Any]:
    import requests

    from tests.workbench_server import workbench_process

    rng = random.Random(6)
    with tempfile.TemporaryDirectory() as folder, loopback_provider() as provider:
        environ = {
            "AI_TUTOR_PROVIDER": "openai",
            "AI_TUTOR_MODEL": "loopback-model",
            "OPENAI_BASE_URL": provider.url + "/v1",
            "OPENAI_API_KEY": "sk-bench",
        }
        with workbench_process(Path(folder), environ) as (base, server):
            return _drive(requests, server, base, learners, questions, rng)


def _drive(
    requests: Any,
    server: Any,
    base: str,
    learners: int,
    questions: int,
    rng: random.Random,
) -> dict[str, Any]:
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
