"""Load: 200 questions from 20 learners at once against a provider that takes 1 s a reply.

Each learner is a thread with their own block (one field store per learner, as the LMS keeps
one per learner and block) asking ten questions in turn through the `ask` handler and the
real OpenAI SDK. The loopback provider answers after 1 s; ten questions first get a 500 and
two first hang past the deadline. Learners retry what the tutor tells them to retry (the
over-the-cap 503s above all), except that the first five give up on a provider 500; one
question of each learner is sent twice, as a double click would.

Checked afterwards: no 500 and no exception; every answered question has its own reply in
its learner's history, every abandoned one is kept there as failed; the daily counters and
the block totals equal the answered questions (nothing charged twice, nothing failed
charged); and the provider never saw more requests at once than the per-process cap.
"""

from __future__ import annotations

import random
import threading
import time

from ai_tutor import calls, limits
from tests.blocks import call, make_block, provider_settings
from tests.loopback import Recorded, Scripted, chat_completion, openai_error

LEARNERS = 20
QUESTIONS = 10
CAP = 8
PROVIDER_SECONDS = 1.0
DEADLINE = 3
TOKENS_PER_REPLY = 60 + 11  # the loopback's reported usage
GIVING_UP = range(5)  # these learners abandon a question after a provider 500
DOUBLE_CLICKED = 3  # the question each learner sends twice
# The first time the provider sees these questions it fails with a 500, or hangs past the
# deadline; it answers them when they are asked again.
FAULTY = {f"Learner {learner}, question 4" for learner in range(0, LEARNERS, 2)}
HUNG = {"Learner 7, question 2", "Learner 15, question 6"}


class ScriptedProvider:
    """Answers "Answer to: <question>" after 1 s, with the faults above mixed in."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: set[str] = set()
        self.answered = 0

    def __call__(self, recorded: Recorded) -> Scripted:
        question = recorded.body["messages"][-1]["content"]
        with self.lock:
            first_time = question not in self.seen
            self.seen.add(question)
        if first_time and question in HUNG:
            return Scripted(fault="hang")
        if first_time and question in FAULTY:
            return openai_error(500, "loopback overload")
        with self.lock:
            self.answered += 1
        return Scripted(body=chat_completion(f"Answer to: {question}"), delay=PROVIDER_SECONDS)


class Learner:
    def __init__(self, index: int, settings: dict) -> None:
        self.index = index
        self.block = make_block(settings)
        self.block.scope_ids = self.block.scope_ids._replace(user_id=f"learner-{index}")
        self.statuses: list[int] = []
        self.codes: list[str] = []
        self.answered: list[str] = []
        self.abandoned: list[str] = []
        self.errors: list[BaseException] = []
        self.random = random.Random(index)

    def ask(self, question: str, message_id: str) -> tuple[int, dict]:
        status, body, _ = call(
            self.block, "ask", {"question": question, "client_msg_id": message_id}
        )
        self.statuses.append(status)
        if status != 200:
            self.codes.append(body["error"]["code"])
        return status, body

    def run(self, start: threading.Barrier) -> None:
        start.wait()
        try:
            for number in range(QUESTIONS):
                self.ask_until_done(
                    f"Learner {self.index}, question {number}", f"{self.index}-{number}"
                )
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.errors.append(error)

    def ask_until_done(self, question: str, message_id: str) -> None:
        for _attempt in range(400):
            status, body = self.ask(question, message_id)
            if status == 200:
                assert body["reply_text"] == f"Answer to: {question}"
                self.answered.append(question)
                if message_id.endswith(f"-{DOUBLE_CLICKED}"):
                    again_status, again = self.ask(question, message_id)
                    assert (again_status, again) == (200, body)
                return
            error = body["error"]
            if error["code"] == "provider_overloaded" and self.index in GIVING_UP:
                self.abandoned.append(question)
                return
            assert status == 503 and error["retry"] is True, error
            time.sleep(0.05 + self.random.random() * 0.15)
        raise AssertionError(f"{question} was never answered")


def test_two_hundred_questions_from_twenty_learners(server):
    provider = ScriptedProvider()
    server.default = provider
    settings = provider_settings(
        server,
        deadline_seconds=DEADLINE,
        max_concurrent_calls_process=CAP,
        max_concurrent_calls_site=0,
        questions_per_block_per_day=QUESTIONS,
        questions_per_learner_per_day=QUESTIONS,
    )
    # Calls abandoned by earlier tests would hold slots of the process cap.
    end = time.monotonic() + 10
    while calls.process_calls_in_flight() and time.monotonic() < end:
        time.sleep(0.05)
    assert calls.process_calls_in_flight() == 0
    learners = [Learner(index, settings) for index in range(LEARNERS)]
    start = threading.Barrier(LEARNERS)
    threads = [threading.Thread(target=learner.run, args=(start,)) for learner in learners]

    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    took = time.monotonic() - began

    assert not any(thread.is_alive() for thread in threads)
    assert [learner.errors for learner in learners] == [[]] * LEARNERS
    statuses = {status for learner in learners for status in learner.statuses}
    assert statuses <= {200, 503}, statuses  # never a 500, nor a 409 (one question at a time)
    codes = {code for learner in learners for code in learner.codes}
    assert "busy" in codes and "provider_overloaded" in codes, codes
    # A hang ends at the deadline, or at the SDK's read timeout if that fires first.
    assert codes & {"deadline", "provider_timeout"}, codes

    # Every question ended answered or abandoned, and the history says which, in order.
    answered = sum(len(learner.answered) for learner in learners)
    abandoned = sum(len(learner.abandoned) for learner in learners)
    assert answered + abandoned == LEARNERS * QUESTIONS
    assert sorted(q for learner in learners for q in learner.abandoned) == sorted(
        q for q in FAULTY if int(q.split()[1].rstrip(",")) in GIVING_UP
    )
    for learner in learners:
        expected = []
        for number in range(QUESTIONS):
            question = f"Learner {learner.index}, question {number}"
            if question in learner.abandoned:
                expected.append(("user", question, "failed"))
            else:
                expected.append(("user", question, None))
                expected.append(("assistant", f"Answer to: {question}", None))
        stored = [(t["role"], t["content"], t.get("status")) for t in learner.block.conversation]
        assert stored == expected, learner.index

    # Charged once per answered question: the daily counters and the block's own totals.
    from django.core.cache import cache

    today = limits.utc_now().strftime("%Y-%m-%d")
    for learner in learners:
        counts = limits.DailyUsage(
            cache, learner=f"learner-{learner.index}", block="usage-1", course=""
        ).counts()
        mine = len(learner.answered)
        assert (counts["block_questions"], counts["learner_questions"]) == (mine, mine)
        assert learner.block.usage_totals["days"][today]["questions"] == mine
    assert counts["site_tokens"] == counts["course_tokens"] == answered * TOKENS_PER_REPLY
    # Each answer the provider gave became one answered question, but for any that came back
    # after its question's deadline had passed.
    late = sum(
        learner.codes.count("deadline") + learner.codes.count("provider_timeout")
        for learner in learners
    )
    assert answered <= provider.answered <= answered + late - len(HUNG)

    # The per-process cap held, and the load reached it.
    assert server.max_in_flight == CAP
    end = time.monotonic() + DEADLINE + 2
    while calls.process_calls_in_flight() and time.monotonic() < end:
        time.sleep(0.05)
    assert calls.process_calls_in_flight() == 0
    # 1 s a reply with at most CAP at once: no faster than this, or the delay was not real.
    assert took >= answered * PROVIDER_SECONDS / CAP, took
