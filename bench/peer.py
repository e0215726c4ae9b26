"""xblock-ai-eval's chat-style block (`shortanswer_ai_eval`) in the same harness as ours.

Run by `bench/run.py` inside the benchmark-only venv that holds xblock-ai-eval (never our
project's): `python -m bench.peer OUT.json`. The block is built from OLX in XBlock's
TestRuntime, drives the same loopback provider through litellm (offline, with litellm's
local model-cost map), and has the same 10 KB of course material, served on loopback as
its attachment (its way of giving the model course text). Outside the LMS there is no site
configuration: a stand-in for the LMS's site-configuration helper answers "not set".
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import types
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_LOG", "ERROR")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402 (the environment is set first)
    REPLY_TEXT,
    conversation_turns,
    count_tokens,
    course_material,
    loopback_provider,
    question,
    summary_ms,
)

MAX_RESPONSES = 30  # the most its Studio validation allows; the default is 3
KB = 1024


def setup() -> None:
    import django
    from django.conf import settings

    settings.configure(
        SERVICE_VARIANT="lms",
        LMS_ROOT_URL="http://127.0.0.1",
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        INSTALLED_APPS=[],
        USE_I18N=False,
    )
    django.setup()
    # The LMS's site-configuration helper, which ai_eval imports inside the LMS only.
    helpers = types.ModuleType("openedx.core.djangoapps.site_configuration.helpers")
    helpers.get_value = lambda key, default=None: default  # type: ignore[attr-defined]
    for name in (
        "openedx",
        "openedx.core",
        "openedx.core.djangoapps",
        "openedx.core.djangoapps.site_configuration",
    ):
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules[helpers.__name__] = helpers


def make_block(server: Any, learner: str) -> Any:
    from xblock.field_data import DictFieldData
    from xblock.test.tools import TestRuntime

    runtime = TestRuntime(services={"field-data": DictFieldData({}), "settings": Settings()})
    olx = (
        f'<shortanswer_ai_eval max_responses="{MAX_RESPONSES}" model="gpt-4o-mini" '
        f'model_api_key="k" model_api_url="{server.url}/v1" '
        f"attachment_urls='[\"{server.url}/material.txt\"]' "
        'question="Explain the main idea of this unit in your own words."/>'
    )
    usage_id = runtime.parse_xml_string(olx)
    return runtime.get_block(usage_id)


class Settings:
    def get_settings_bucket(self, block: Any, default: Any = None) -> Any:
        return default if default is not None else {}


def ask(block: Any, text: str) -> int:
    from webob import Request

    request = Request.blank(
        "/get_response", method="POST", body=json.dumps({"user_input": text}).encode()
    )
    request.content_type = "application/json"
    return block.handle("get_response", request).status_code


def stored_session(turns: int) -> list[dict[str, Any]]:
    return [
        {"source": "user" if t["role"] == "user" else "llm", "content": t["content"]}
        for t in conversation_turns(turns)
    ]


def main(out: str) -> None:
    setup()
    import ai_eval.llm_services as services

    timed = {"seconds": 0.0, "cpu": 0.0}
    completion = services.completion

    def timed_completion(*args: Any, **kwargs: Any) -> Any:
        started, cpu_started = time.perf_counter(), time.thread_time()
        try:
            return completion(*args, **kwargs)
        finally:
            timed["seconds"] += time.perf_counter() - started
            timed["cpu"] += time.thread_time() - cpu_started

    services.completion = timed_completion
    results: dict[str, Any] = {
        "versions": {
            "xblock-ai-eval": _version("xblock-ai-eval"),
            "litellm": _version("litellm"),
        },
        "max_responses": MAX_RESPONSES,
    }
    rng = random.Random(4)
    with loopback_provider() as server:
        server.documents["/material.txt"] = course_material(10 * KB).encode()

        # Input tokens per request over a conversation as long as it allows.
        block = make_block(server, "peer_learner")
        assert block.max_responses == MAX_RESPONSES, block.max_responses
        tokens = []
        for _ in range(MAX_RESPONSES):
            status = ask(block, question(rng))
            assert status == 200, status
            tokens.append(count_tokens(server.requests[-1].body))
        results["tokens"] = tokens

        # Handler time per question at 20 stored turns with 10 KB of material.
        block = make_block(server, "peer_timed")
        stored = stored_session(20)
        totals, own, cpu = [], [], []
        runs = int(os.environ.get("BENCH_RUNS", "60"))
        for index in range(runs + 3):
            block.sessions = [list(stored)]
            timed["seconds"] = timed["cpu"] = 0.0
            text = question(rng)
            cpu_started = time.thread_time()
            started = time.perf_counter()
            status = ask(block, text)
            total = time.perf_counter() - started
            cpu_used = time.thread_time() - cpu_started
            assert status == 200, status
            if index < 3:
                continue
            totals.append(total)
            own.append(total - timed["seconds"])
            # litellm runs in the request's thread: its CPU time is taken out, as the
            # provider call's is from ours (which runs in a worker thread).
            cpu.append(cpu_used - timed["cpu"])
        results["handler_20_turns_10KB"] = {
            "total": summary_ms(totals),
            "own": summary_ms(own),
            "cpu": summary_ms(cpu),
        }
    results["reply_chars"] = len(REPLY_TEXT)
    Path(out).write_text(json.dumps(results, indent=1))


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


if __name__ == "__main__":
    main(sys.argv[1])
