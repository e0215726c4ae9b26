"""Measurements of our block, in XBlock's TestRuntime, against the loopback provider."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.harness import (
    Counting,
    conversation_turns,
    count_tokens,
    course_material,
    loopback_provider,
    question,
    summary_ms,
    timed,
)

KB = 1024
# Limits high enough never to refuse, but on: their cache reads and writes are part of the cost.
HIGH_LIMITS = {
    "questions_per_block_per_day": 100_000,
    "questions_per_learner_per_day": 100_000,
    "course_tokens_per_day": 10**10,
    "site_tokens_per_day": 10**10,
}


class TokenService:
    """The `ai_tutor_identity_token` runtime service: one learner's token."""

    def __init__(self, token: str | None) -> None:
        self.token = token

    def get_id_token(self, block: Any) -> str | None:
        return self.token


def make_block(
    settings: dict[str, Any], learner: str = "student_1", token: str | None = None, **fields: Any
) -> Any:
    from xblock.field_data import DictFieldData
    from xblock.fields import ScopeIds
    from xblock.test.tools import TestRuntime

    from ai_tutor.block import AITutorBlock
    from tests.blocks import FakeSettingsService

    services: dict[str, Any] = {
        "field-data": DictFieldData({}),
        "settings": FakeSettingsService({"ai_tutor": settings}),
    }
    if token is not None:
        services["ai_tutor_identity_token"] = TokenService(token)
    runtime = TestRuntime(services=services)
    block = runtime.construct_xblock_from_class(
        AITutorBlock, ScopeIds(learner, "ai_tutor", "def-1", "usage-1")
    )
    for name, value in fields.items():
        setattr(block, name, value)
    return block


def ask(block: Any, text: str) -> tuple[int, dict[str, Any]]:
    import json

    from webob import Request

    request = Request.blank("/ask", method="POST", body=json.dumps({"question": text}).encode())
    request.content_type = "application/json"
    response = block.handle("ask", request)
    return response.status_code, json.loads(response.body)


def settings_for(server: Any, **extra: Any) -> dict[str, Any]:
    from tests.blocks import openai_settings

    return openai_settings(server, **HIGH_LIMITS, **extra)


@contextmanager
def provider_timing() -> Iterator[Counting]:
    """Time spent inside the provider's `complete` (SDK + loopback HTTP), per question."""
    import ai_tutor.block as block_module

    counting = Counting()
    original = block_module.provider_for

    class Timed:
        def __init__(self, inner: Any) -> None:
            self.inner = inner
            self.name = getattr(inner, "name", "")

        def complete(self, request: Any) -> Any:
            started = time.perf_counter()
            try:
                return self.inner.complete(request)
            finally:
                counting.add(time.perf_counter() - started)

    block_module.provider_for = lambda config: Timed(original(config))
    try:
        yield counting
    finally:
        block_module.provider_for = original


@contextmanager
def index_builds() -> Iterator[Counting]:
    """Counts BM25 index builds (`PassageIndex` constructions)."""
    from ai_tutor import retrieval

    counting = Counting()
    original = retrieval.PassageIndex

    class CountedIndex(original):  # type: ignore[misc, valid-type]
        def __init__(self, passages: Any) -> None:
            counting.add(0.0)
            super().__init__(passages)

    retrieval.PassageIndex = CountedIndex
    try:
        yield counting
    finally:
        retrieval.PassageIndex = original


def handler_cell(
    settings: dict[str, Any], material: str, turns: int, runs: int, rng: random.Random
) -> tuple[dict[str, Any], Any]:
    """One question asked `runs` times (after 3 warm-ups) with `turns` stored turns: the
    whole handler's time, its own part (less the time inside the provider call), and the
    CPU time of the request's thread (the provider call runs in a worker thread, so it is
    left out; so is waiting for a core on a busy machine). Returns the cell and the block."""
    from django.core.cache import cache

    stored = conversation_turns(turns)
    block = make_block(settings, course_material=material)
    totals: list[float] = []
    own: list[float] = []
    cpu: list[float] = []
    for index in range(runs + 3):
        block.conversation = list(stored)
        cache.clear()
        text = question(rng)
        with provider_timing() as provider:
            cpu_started = time.thread_time()
            started = time.perf_counter()
            status, _ = ask(block, text)
            total = time.perf_counter() - started
            cpu_used = time.thread_time() - cpu_started
        assert status == 200, status
        if index < 3:  # warm-up: SDK client, index, imports
            continue
        totals.append(total)
        own.append(total - provider.seconds)
        cpu.append(cpu_used)
    cell = {"total": summary_ms(totals), "own": summary_ms(own), "cpu": summary_ms(cpu)}
    return cell, block


def overhead_grid(runs: int, runs_large: int) -> dict[str, Any]:
    """Handler time and own overhead per question, and student view time, at 0/20/200 stored
    turns with 10 KB and 1 MB of course material; plus index builds per content version."""
    results: dict[str, Any] = {"handler": {}, "view": {}, "index_builds": {}}
    rng = random.Random(3)
    with loopback_provider() as server, index_builds() as builds:
        settings = settings_for(server)
        for size_name, size in (("10KB", 10 * KB), ("1MB", 1024 * KB)):
            material = course_material(size)
            builds_before = builds.calls
            asked = 0
            count = runs_large if size_name == "1MB" else runs
            for turns in (0, 20, 200):
                key = f"{turns} turns / {size_name}"
                results["handler"][key], block = handler_cell(settings, material, turns, count, rng)
                asked += count + 3
                block.conversation = conversation_turns(turns)
                block.student_view()
                views = [timed(block.student_view) for _ in range(count)]
                results["view"][key] = summary_ms(views)
            results["index_builds"][size_name] = {
                "questions": asked,
                "builds": builds.calls - builds_before,
            }
        # A new content version must be indexed again, once.
        block = make_block(settings, course_material=course_material(10 * KB, seed=99))
        before = builds.calls
        for _ in range(5):
            ask(block, question(rng))
        results["index_builds"]["new version"] = {"questions": 5, "builds": builds.calls - before}
    return results


def twenty_turns_10kb(runs: int) -> dict[str, Any]:
    """The cell compared with the peer, measured again right after it, under the same load."""
    with loopback_provider() as server:
        cell, _ = handler_cell(
            settings_for(server), course_material(10 * KB), 20, runs, random.Random(7)
        )
    return cell


def token_curve(turns: int = 100, material_bytes: int = 10 * KB) -> dict[str, Any]:
    """Input tokens the provider receives per question over a `turns`-question conversation,
    and what a naive block (whole history, all material) would send."""
    from ai_tutor.prompt import PromptParts, system_prompt
    from ai_tutor.retrieval import split_passages

    rng = random.Random(4)
    material = course_material(material_bytes)
    ours: list[int] = []
    ours_messages: list[int] = []  # the turns and the question, without the system prompt
    naive: list[int] = []
    with loopback_provider() as server:
        block = make_block(settings_for(server), course_material=material)
        all_passages = split_passages("usage-1#material", "Course material", material)
        naive_system = system_prompt(
            PromptParts("socratic", "", [], block.display_name), all_passages
        )
        history_chars = 0
        for _ in range(turns):
            text = question(rng)
            status, _body = ask(block, text)
            assert status == 200, _body
            body = server.requests[-1].body
            ours.append(count_tokens(body))
            ours_messages.append(
                count_tokens({"messages": [m for m in body["messages"] if m["role"] != "system"]})
            )
            naive.append((len(naive_system) + history_chars + len(text)) // 4)
            history_chars += len(text) + len(block.conversation[-1]["content"])
    return {"ours": ours, "ours_messages": ours_messages, "naive": naive}


def identity_requests(learners: int = 50, questions: int = 1000) -> dict[str, Any]:
    """Requests to the identity provider while `learners` ask `questions` in all, and the
    time to validate a token with a warm key cache."""
    from ai_tutor.identity import keys as key_cache
    from ai_tutor.identity.settings import load_oidc_settings
    from ai_tutor.identity.validator import validate_id_token
    from tests.identity.provider import (
        CLIENT_ID,
        LoopbackProvider,
        claims_for,
        mint,
        public_jwk,
        rsa_key,
    )

    key_cache.clear_cache()
    key = rsa_key()
    rng = random.Random(5)
    with LoopbackProvider().running() as idp, loopback_provider() as server:
        discovery, issuer = idp.add_b2c_policy("B2C_1_signupsignin", [public_jwk(key, "k1", None)])
        oidc = {"mode": "required", "discovery_url": discovery, "audience": CLIENT_ID}
        settings = settings_for(server, oidc=oidc)
        blocks = []
        for number in range(learners):
            token = mint(key, claims_for(issuer, sub=f"learner-{number}", oid=None), kid="k1")
            blocks.append(make_block(settings, learner=f"learner_{number}", token=token))
        started = time.perf_counter()
        for index in range(questions):
            status, body = ask(blocks[index % learners], question(rng))
            assert status == 200, body
        elapsed = time.perf_counter() - started
        hits = dict(idp.hits)

        token = blocks[0].runtime.service(blocks[0], "ai_tutor_identity_token").token
        parsed = load_oidc_settings(oidc)
        validate_id_token(token, parsed)
        samples = [timed(lambda: validate_id_token(token, parsed)) for _ in range(300)]
    key_cache.clear_cache()
    discovery_hits = sum(n for path, n in hits.items() if "openid-configuration" in path)
    jwks_hits = sum(n for path, n in hits.items() if path.endswith("/keys"))
    return {
        "questions": questions,
        "learners": learners,
        "discovery_fetches": discovery_hits,
        "jwks_fetches": jwks_hits,
        "seconds": elapsed,
        "validation": summary_ms(samples),
    }


def throughput(levels: tuple[int, ...] = (1, 8, 32), per_learner: int = 3) -> dict[str, Any]:
    """Questions answered per second and rejections with a provider answering in 1 s, under
    the default per-process cap (the site-wide cap turned off to isolate it)."""
    from django.core.cache import cache

    from ai_tutor.config import TutorConfig

    results: dict[str, Any] = {"cap": TutorConfig.max_concurrent_calls_process, "levels": {}}
    with loopback_provider(delay_seconds=1.0) as server:
        settings = settings_for(server, max_concurrent_calls_site=0)
        warm = make_block(settings, learner="warm")
        ask(warm, "warm up the client")
        for learners in levels:
            cache.clear()
            blocks = [make_block(settings, learner=f"t{learners}_{n}") for n in range(learners)]
            rng = random.Random(learners)
            texts = [[question(rng) for _ in range(per_learner)] for _ in blocks]
            answered, rejected, elapsed = _ask_together(blocks, texts)
            results["levels"][learners] = {
                "asked": learners * per_learner,
                "answered": answered,
                "rejected": rejected,
                "seconds": elapsed,
                "answered_per_second": answered / elapsed,
            }
    return results


def _ask_together(blocks: list[Any], texts: list[list[str]]) -> tuple[int, int, float]:
    """Each learner, in a thread of their own, asks their questions one after the other;
    a question refused as busy is not asked again. (answered, refused, seconds)."""
    outcomes: list[int] = []
    lock = threading.Lock()

    def learner(number: int) -> None:
        for text in texts[number]:
            status, _ = ask(blocks[number], text)
            with lock:
                outcomes.append(status)

    threads = [threading.Thread(target=learner, args=(n,)) for n in range(len(blocks))]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    answered = outcomes.count(200)
    return answered, len(outcomes) - answered, elapsed
