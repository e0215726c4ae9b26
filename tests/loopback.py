"""Loopback HTTP servers that speak the providers' wire formats, for the real SDKs to call.

`ProviderServer` answers Anthropic's Messages API (`POST /v1/messages`) and OpenAI's Chat
Completions (`POST /v1/chat/completions`, also under Azure's `/openai/v1/`). It records each
request (path, headers, JSON body) so tests can check what the SDK sent, and replies with
what a test scripted, in the providers' own response shapes.

A scripted answer can wait `delay` seconds before it is sent, and it can also misbehave, for
fault tests: `hang` (read the request, answer nothing until the client gives up), `trickle` (send the headers, then one byte of the body every `interval` seconds),
or `reset` (drop the connection with a TCP reset). `anthropic_error` and `openai_error`
build the error bodies and headers the real services send.

`in_flight` and `max_in_flight` count requests between their arrival and the moment their
answer starts (a hung one: until its client closes the connection), for concurrency tests.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Scripted:
    """What the server answers next: a status, a JSON body and headers."""

    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    fault: str = ""  # "", "hang", "trickle" or "reset"
    interval: float = 0.2
    raw: bytes | None = None  # a body sent as it is, instead of `body` as JSON
    delay: float = 0.0  # seconds to wait before answering


_ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def anthropic_error(
    status: int, message: str = "", *, retry_after: float | None = None
) -> Scripted:
    """An error as Anthropic's API sends it, with its request id and rate-limit headers."""
    error_type = _ANTHROPIC_ERROR_TYPES.get(status, "api_error")
    headers = {"request-id": "req_loopback_0001", "x-should-retry": "false"}
    if retry_after is not None:
        headers["retry-after"] = f"{retry_after:g}"
        headers["anthropic-ratelimit-requests-remaining"] = "0"
    body = {
        "type": "error",
        "error": {"type": error_type, "message": message or f"{error_type} from loopback"},
        "request_id": "req_loopback_0001",
    }
    return Scripted(status=status, body=body, headers=headers)


def openai_error(
    status: int,
    message: str = "",
    *,
    code: str | None = None,
    retry_after: float | None = None,
) -> Scripted:
    """An error as OpenAI's API (or Azure OpenAI) sends it, with its rate-limit headers."""
    headers = {"x-request-id": "req_loopback_0001", "x-should-retry": "false"}
    if retry_after is not None:
        headers["retry-after"] = f"{retry_after:g}"
        headers["x-ratelimit-remaining-requests"] = "0"
    body = {
        "error": {
            "message": message or f"error {status} from loopback",
            "type": "requests" if status == 429 else "invalid_request_error",
            "param": None,
            "code": code,
        }
    }
    return Scripted(status=status, body=body, headers=headers)


def anthropic_message(
    text: str,
    *,
    stop_reason: str = "end_turn",
    input_tokens: int = 50,
    output_tokens: int = 9,
    model: str = "claude-test",
) -> dict[str, Any]:
    return {
        "id": "msg_loopback",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}] if text else [],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


def chat_completion(
    text: str | None,
    *,
    finish_reason: str = "stop",
    prompt_tokens: int = 60,
    completion_tokens: int = 11,
    model: str = "gpt-test",
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-loopback",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class ProviderServer:
    """A threaded loopback server; use `with ProviderServer().running() as server:`."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.script: list[Scripted] = []
        self.default: Callable[[Recorded], Scripted] = self._echo
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        # Set when the server stops, so hanging and trickling answers end with it.
        self.stopping = threading.Event()

    @staticmethod
    def _echo(recorded: Recorded) -> Scripted:
        if recorded.path.endswith("/messages"):
            return Scripted(body=anthropic_message("Think about where the light is absorbed."))
        return Scripted(body=chat_completion("Think about where the light is absorbed."))

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @contextlib.contextmanager
    def running(self) -> Iterator[ProviderServer]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                recorded = Recorded(
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    json.loads(raw or b"{}"),
                )
                with outer._lock:
                    outer.requests.append(recorded)
                    answer = outer.script.pop(0) if outer.script else outer.default(recorded)
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                try:
                    self._wait(answer)
                finally:
                    with outer._lock:
                        outer.in_flight -= 1
                if answer.fault == "hang":
                    self.close_connection = True
                    return
                if answer.fault == "reset":
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.close_connection = True
                    return
                payload = (
                    answer.raw if answer.raw is not None else json.dumps(answer.body or {}).encode()
                )
                self.send_response(answer.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if answer.fault == "trickle":
                    self.close_connection = True
                    for index in range(len(payload)):
                        if outer.stopping.wait(answer.interval):
                            return
                        self.wfile.write(payload[index : index + 1])
                        self.wfile.flush()
                    return
                self.wfile.write(payload)

            def _wait(self, answer: Scripted) -> None:
                if answer.fault != "hang":
                    outer.stopping.wait(answer.delay)
                    return
                # The request was read whole: the socket turns readable only when the client
                # closes it (it gave up), and that ends the hang.
                while not outer.stopping.is_set():
                    readable, _, _ = select.select([self.connection], [], [], 0.05)
                    if readable:
                        return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.stopping.set()
            self._server.shutdown()
            self._server.server_close()
