"""What every measurement shares: Django set up as in the tests, a loopback provider that
counts what it receives, course material and conversations of a chosen size.

Tokens are counted where the request lands, at the loopback provider, as characters / 4 of
every message's text (system prompt included): the same rule for our block, the peer and
the naive baseline, and independent of our own estimator.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

REPLY_TEXT = (
    "Good question. Think first about what the passage says happens to the energy at each "
    "step: where does it come from, and where does it go next? Try to name the two inputs "
    "and the one output before you look at the diagram again. If you get stuck, reread the "
    "second paragraph of the unit and tell me which word you are unsure about; we can work "
    "through it together. Once you have the inputs, compare them with the outputs and ask "
    "yourself what changed in between. That change is the heart of this unit's idea, and "
    "naming it in your own words is the best check that you have understood it."
)


def setup_django() -> None:
    """The tests' setup: the workbench settings, a `var/` folder, the repository on the path."""
    os.chdir(ROOT)
    (ROOT / "var").mkdir(exist_ok=True)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ai_tutor.workbench.settings")
    import logging

    import django

    django.setup()
    # The workbench logs every template variable lookup that fails, with its traceback, at
    # DEBUG to a file; the LMS in production does not log DEBUG, so neither does the bench.
    logging.getLogger("django").setLevel(logging.INFO)
    # Our own log lines go to a handler that drops them, not to stderr (the bench's output).
    logging.getLogger("ai_tutor").addHandler(logging.NullHandler())


def count_tokens(body: dict[str, Any]) -> int:
    """Characters / 4 of all the text a Chat Completions request carries."""
    chars = 0
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):  # content parts
            chars += sum(len(part.get("text", "")) for part in content if isinstance(part, dict))
    if isinstance(body.get("system"), str):
        chars += len(body["system"])
    return chars // 4


@dataclasses.dataclass
class Received:
    path: str
    body: dict[str, Any]


class LoopbackProvider:
    """A loopback Chat Completions endpoint (the wire format of `tests/loopback.py`, whose
    `chat_completion` builds the answer) that answers a tutor-sized reply after `delay`
    seconds, many requests at a time, and keeps every request body in `requests`."""

    def __init__(self, delay_seconds: float = 0.0) -> None:
        self.delay_seconds = delay_seconds
        self.requests: list[Received] = []
        self.documents: dict[str, bytes] = {}  # served to GET, as course attachments
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @contextmanager
    def running(self) -> Iterator[LoopbackProvider]:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from tests.loopback import chat_completion

        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without this, Nagle's algorithm and the
            # client's delayed ACK add ~40 ms to every answer on a kept-alive connection.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                document = outer.documents.get(self.path)
                self.send_response(200 if document is not None else 404)
                self.send_header("content-type", "text/plain; charset=utf-8")
                self.send_header("content-length", str(len(document or b"")))
                self.end_headers()
                self.wfile.write(document or b"")

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with outer._lock:
                    outer.requests.append(Received(self.path, body))
                if outer.delay_seconds:
                    time.sleep(outer.delay_seconds)
                answer = chat_completion(
                    REPLY_TEXT, prompt_tokens=count_tokens(body), completion_tokens=120
                )
                payload = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()


@contextmanager
def loopback_provider(delay_seconds: float = 0.0) -> Iterator[LoopbackProvider]:
    with LoopbackProvider(delay_seconds).running() as server:
        yield server


# ------------------------------------------------------------------ synthetic course and chat


def _vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(4, 10))) for _ in range(size)]


_RNG = random.Random(8)
VOCABULARY = _vocabulary(_RNG)


def course_material(size_bytes: int, seed: int = 1) -> str:
    """Deterministic English-shaped text of about `size_bytes`: paragraphs of sentences."""
    rng = random.Random(seed)
    paragraphs: list[str] = []
    total = 0
    while total < size_bytes:
        sentences = []
        for _ in range(rng.randint(3, 6)):
            words = [rng.choice(VOCABULARY) for _ in range(rng.randint(8, 20))]
            sentences.append(" ".join(words).capitalize() + ".")
        paragraph = " ".join(sentences)
        paragraphs.append(paragraph)
        total += len(paragraph) + 2
    return "\n\n".join(paragraphs)[:size_bytes]


def question(rng: random.Random) -> str:
    a, b, c = (rng.choice(VOCABULARY) for _ in range(3))
    return f"How does {a} relate to {b} when we look at {c} in this unit?"


def conversation_turns(count: int, seed: int = 2) -> list[dict[str, Any]]:
    """`count` stored turns, alternating question and reply, in the block's stored shape."""
    rng = random.Random(seed)
    turns: list[dict[str, Any]] = []
    for index in range(count):
        if index % 2 == 0:
            turns.append(
                {"role": "user", "content": question(rng), "at": "2026-01-01T00:00:00+00:00"}
            )
        else:
            turns.append(
                {
                    "role": "assistant",
                    "content": REPLY_TEXT,
                    "at": "2026-01-01T00:00:00+00:00",
                    "citations": [],
                    "provider": "openai",
                    "offline": False,
                    "truncated": False,
                }
            )
    return turns


# ------------------------------------------------------------------ timing


def summary_ms(samples: list[float]) -> dict[str, float]:
    """Median and 95th percentile of `samples` (seconds), in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {
        "median_ms": statistics.median(ordered) * 1000,
        "p95_ms": p95 * 1000,
        "runs": len(ordered),
    }


def timed(function: Callable[[], Any]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def rss_kib(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Counting:
    """Counts calls of a callable and the time spent in it, thread-safely."""

    def __init__(self) -> None:
        self.calls = 0
        self.seconds = 0.0
        self._lock = threading.Lock()

    def add(self, seconds: float) -> None:
        with self._lock:
            self.calls += 1
            self.seconds += seconds
