"""Whatever JSON (or bytes) reaches `ask` and `clear`, the answer is never a 500."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.blocks import call, make_block

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
requests = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"question": json_values | st.text(max_size=300)},
        optional={"client_msg_id": json_values | st.text(max_size=120), "history": json_values},
    ),
)
KNOWN_STATUSES = {200, 400, 409, 429, 503}
NO_LIMITS = {"questions_per_block_per_day": 0, "questions_per_learner_per_day": 0}


def _check(status: int, body: dict) -> None:
    assert status in KNOWN_STATUSES
    if status != 200:
        assert set(body["error"]) >= {"code", "message"}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=requests)
def test_ask_never_fails_with_a_500(payload):
    block = make_block(NO_LIMITS, course_material="The stroma holds the Calvin cycle.")
    raw = json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass")

    status, body, _ = call(block, "ask", raw=raw)

    _check(status, body)
    if status == 400:
        assert block.conversation == []  # bad input has no side effect


@settings(max_examples=60, deadline=None)
@given(payload=requests)
def test_clear_never_fails_with_a_500(payload):
    block = make_block(NO_LIMITS)
    raw = json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass")
    status, body, _ = call(block, "clear", raw=raw)
    _check(status, body)


@settings(max_examples=60, deadline=None)
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_never_fail_with_a_500(raw):
    block = make_block(NO_LIMITS)
    for handler in ("ask", "clear"):
        status, body, _ = call(block, handler, raw=raw)
        _check(status, body)
