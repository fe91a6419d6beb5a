"""Generated requests against a real intake (``ftiscan intake serve`` on loopback).

One intake process serves the whole module (plain http on 127.0.0.1, rates raised so
that the fuzzer is not rate limited, a small body limit). Requests are generated:
method, path (every route, unknown ones, odd query strings), headers (content type,
length, authorization, cookies) and body (noise, damaged enrolments, damaged
envelopes signed by an enrolled agent, envelopes of damaged payloads signed by it).
The properties: every answer is either a protocol refusal ``{"error", "reason"}``
with the status of its code, or a success (a receipt envelope for a report, JSON or
the fleet page otherwise); never a 500, and never ``unavailable`` (the intake's
answer when a request raised where it should have been refused: it tells the agent to
retry a report that can never be stored); the intake still answers its health check
after each example, and its log holds no traceback at the end. (A request that
uvicorn's HTTP parser refuses gets uvicorn's plain-text 400 before the app sees it.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ftiscan.reports import dsse
from ftiscan.reports.canonical import CanonicalError, canonical_bytes
from ftiscan.reports.protocol import ERRORS, RECEIPT_TYPE
from tests.fuzz._mutate import Blob, Edit, apply, edits, text_edits
from tests.fuzz._profile import fuzz_settings
from tests.intake._served import Agent, Answer, Client, Intake, new_intake

pytestmark = pytest.mark.slow


class _Served:
    def __init__(self, intake: Intake, agent: Agent) -> None:
        self.intake, self.agent = intake, agent
        self.client: Client = intake.client()
        self.client.timeout = 60.0
        self.envelope = Blob(agent.sign("critical"))
        self.enrolment = json.dumps(agent.enrolment("no-such-token")).encode()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Served]:
    folder = tmp_path_factory.mktemp("fuzz-intake")
    intake = new_intake(
        folder / "intake",
        None,
        "--rate",
        "100000/s",
        "--enroll-rate",
        "100000/s",
        "--max-body",
        "64K",
    ).start()
    try:
        client = intake.client()
        agent = Agent(folder / "agent", "ws-fuzz.example")
        (token,) = intake.tokens(1)
        assert agent.enroll(client, token).status == 201
        yield _Served(intake, agent)
    finally:
        code = intake.stop()
    log = intake.log()
    assert "Traceback" not in log
    assert code == 0


ROUTES = (
    "/v1/health",
    "/v1/intake-key",
    "/v1/enroll",
    "/v1/reports",
    "/v1/admin/tokens",
    "/v1/admin/inventory",
    "/v1/admin/fleet-link",
    "/v1/fleet",
    "/fleet",
    "/fleet/login",
)
_PATHS = st.one_of(
    st.sampled_from(ROUTES),
    st.tuples(
        st.sampled_from(ROUTES),
        st.sampled_from(["?", "?ticket=", "?ticket=x.y.z", "/", "//", "/..", "%00", "?a=%ff"]),
    ).map("".join),
    st.text("abcdefghijklmnopqrstuvwxyz0123456789/-_.%", max_size=30).map(lambda p: "/" + p),
)
_METHODS = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])


def _headers(admin: str) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "Content-Type": st.sampled_from(
                ["application/json", "text/csv", "text/plain; charset=utf-8", "", "x/\x7f"]
            ),
            "Authorization": st.one_of(
                st.just(f"Bearer {admin}"),
                st.sampled_from(
                    ["Bearer", "Bearer ", "Basic YTpi", "bearer x", "Bearer " + "A" * 5000]
                ),
                st.text("abcdefABCDEF0123456789 -_.", max_size=40),
            ),
            "Cookie": st.sampled_from(["ftiscan_fleet=x", "ftiscan_fleet=", "a=b; c", "=;="]),
            "Accept-Encoding": st.sampled_from(["gzip", "identity;q=0", "*"]),
            "Transfer-Encoding": st.sampled_from(["gzip", "identity"]),
        },
    )


def _bodies(served: _Served) -> st.SearchStrategy[bytes | None]:
    return st.one_of(
        st.none(),
        st.binary(max_size=512),
        st.builds(apply, st.just(served.enrolment), text_edits()),
        st.builds(apply, st.just(served.envelope), edits()),
        st.just(b"1" * 5000),
        st.just(b"[" * 5000 + b"]" * 5000),
        st.just(b"host_id\nws-fuzz.example\n\xff\n"),
        st.just(json.dumps({"count": 10**30, "ttl": -1}).encode()),
        st.just(json.dumps({"count": "1", "ttl": 1.5}).encode()),
    )


def _check(answer: Answer, method: str, path: str) -> None:
    """An answer is a refusal with its code's status, or a success; never a 5xx but
    for nothing (``unavailable`` would say an input made the intake fail)."""
    assert answer.status < 500, answer.status
    if method == "HEAD" or answer.status in (301, 302, 303, 307):
        return
    if answer.body == b"Invalid HTTP request received.":
        # uvicorn's own answer to a request its HTTP parser refuses (a Transfer-Encoding
        # it does not speak, say): the app never sees it, so it is not JSON.
        assert answer.status == 400
        return
    if answer.status >= 400:
        body = answer.json()
        assert set(body) == {"error", "reason"}
        assert ERRORS[body["error"]] == answer.status
        assert isinstance(body["reason"], str)
        return
    if path.startswith("/fleet") and not path.startswith("/fleet/login"):
        assert answer.headers["content-type"].startswith("text/html")
        return
    body = answer.json()
    assert isinstance(body, dict)
    if path.startswith("/v1/reports"):
        assert body["payloadType"] == RECEIPT_TYPE


def _call(
    served: _Served, method: str, path: str, headers: dict[str, str], body: bytes | None
) -> None:
    sent = dict(headers)
    if body is None:
        sent.pop("Content-Type", None)
    try:
        answer = served.client.call(method, path, body, sent)
    except (ConnectionResetError, BrokenPipeError):
        # uvicorn refuses a Transfer-Encoding beside Content-Length in its HTTP parser
        # and closes at once; with body bytes still unread the kernel resets the
        # connection, and the client may see that before the 400. TCP, not the intake.
        assert "Transfer-Encoding" in sent
        assert body
    else:
        _check(answer, method, path)
    health = served.client.call("GET", "/v1/health")
    assert health.status == 200


@fuzz_settings(2)
@given(st.data())
def test_fuzz_intake_any_request_is_refused_or_answered(
    served: _Served, data: st.DataObject
) -> None:
    """Any method, path, headers and body: a refusal or an answer, and the intake
    keeps serving."""
    method = data.draw(_METHODS, label="method")
    path = data.draw(_PATHS, label="path")
    headers = data.draw(_headers(served.intake.admin), label="headers")
    body = data.draw(_bodies(served), label="body")
    _call(served, method, path, headers, body)


@fuzz_settings(2)
@given(edits())
@example([Edit("truncate", 10)])
def test_fuzz_intake_damaged_report_is_refused(served: _Served, changes: list[Edit]) -> None:
    """A signed report damaged anywhere, posted to /v1/reports: a refusal (or the
    receipt, when the edits changed nothing)."""
    body = apply(served.envelope, changes)
    _call(served, "POST", "/v1/reports", {"Content-Type": "application/json"}, body)


_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**60), 2**60), st.text(max_size=10)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _set_field(payload: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """``payload`` with one field (at any depth, lists by their first items) replaced."""
    node: Any = payload
    while True:
        keys: list[Any] = sorted(node) if isinstance(node, dict) else list(range(min(len(node), 3)))
        if not keys:
            return payload
        key = data.draw(st.sampled_from(keys), label="key")
        child = node[key]
        deeper = isinstance(child, dict | list) and child and data.draw(st.booleans())
        if not deeper:
            node[key] = data.draw(_VALUES, label="value")
            return payload
        node = child


@fuzz_settings(2)
@given(st.data())
def test_fuzz_intake_resigned_payload_is_refused_or_stored(
    served: _Served, data: st.DataObject
) -> None:
    """A report with one field replaced by any JSON value, signed by the enrolled
    agent's key: a refusal (schema, chain-key, fork, replay ...) or a receipt."""
    payload = json.loads(dsse_payload(served.envelope))
    payload = _set_field(payload, data)
    try:
        body = canonical_bytes(payload)
    except CanonicalError:
        return
    envelope = dsse.sign(body, served.agent.key)
    _call(served, "POST", "/v1/reports", {"Content-Type": "application/json"}, envelope)


def dsse_payload(envelope: bytes) -> bytes:
    import base64

    return base64.b64decode(json.loads(envelope)["payload"])


def test_intake_fuzz_log_is_kept(served: _Served) -> None:
    """The intake's log is written (the module's teardown checks it for tracebacks)."""
    assert Path(served.intake.stderr).exists()


_DEEP = b"[" * 30_000 + b"]" * 30_000  # under the body limit, past the JSON decoder's depth


@pytest.mark.parametrize(
    ("path", "code"),
    [("/v1/reports", "not-envelope"), ("/v1/enroll", "bad-request")],
)
def test_intake_deeply_nested_body_is_refused(served: _Served, path: str, code: str) -> None:
    """Found by the intake fuzz run: JSON nested past the decoder's limit raised
    RecursionError where the intake reads the claimed signer (and the enrolment body),
    and the answer was a retryable 503 'unavailable' with a traceback in the log."""
    answer = served.client.call("POST", path, _DEEP, {"Content-Type": "application/json"})
    assert answer.status == ERRORS[code]
    assert answer.json()["error"] == code


def test_agent_reads_a_deeply_nested_intake_answer() -> None:
    """The agent's side of the same defect: an answer body nested past the decoder's
    limit is no refusal JSON (``http-<status>``), not a RecursionError in the submitter."""
    from ftiscan.reports.submit import Answer as SubmitAnswer

    answer = SubmitAnswer(400, _DEEP)
    assert answer.error() == ("http-400", "")
    assert answer.json() is None
