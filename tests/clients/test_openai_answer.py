"""What one chat-completion attempt came to, and the API key kept out of what is shown."""

import json

import pytest

from polyvlm.clients.api_key import ApiKey
from polyvlm.clients.openai_answer import answer_outcome, failure_reason, parse_answer
from polyvlm.core.errors import RecipeError


def answer(content, usage=None, **choice) -> bytes:
    return json.dumps({"choices": [{"message": {"content": content}, **choice}], "usage": usage}).encode()


def test_a_good_answer_and_content_parts():
    out = parse_answer(answer("hi", {"prompt_tokens": 3, "completion_tokens": 1}, finish_reason="stop"))
    assert out.retry == "" and out.result.text == "hi" and out.result.prompt_tokens == 3
    assert out.result.finish_reason == "stop" and not out.endpoint_fault
    parts = parse_answer(
        answer([{"type": "text", "text": "a"}, {"type": "image"}, {"type": "text", "text": "b"}])
    )
    assert parts.result.text == "ab"


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"<html>", "bad_response"),
        (b"[1]", "bad_response"),
        (b'{"error": "overloaded"}', "bad_response"),
        (b'{"choices": []}', "empty_choices"),
        (answer(None), "bad_response"),
    ],
)
def test_malformed_answers_are_retried_as_malformed(raw, error):
    out = parse_answer(raw)
    assert out.result.text is None and out.result.error == error and out.retry == "malformed"
    assert not out.endpoint_fault  # the model's fault, not the endpoint's: the breaker does not count it


def test_statuses_retried_counted_or_final():
    scrub = str
    for status in (408, 429, 500, 503):
        out = answer_outcome(status, b"busy", {"Retry-After": "2"}, scrub)
        assert out.retry == "endpoint" and out.retry_after == 2.0 and out.endpoint_fault
    for status in (401, 403, 404):
        out = answer_outcome(status, b"no", {}, scrub)
        assert out.retry == "" and out.endpoint_failed and out.endpoint_fault
    bad = answer_outcome(400, b"context too long", {}, scrub)
    assert bad.retry == "" and not bad.endpoint_fault and bad.result.error == "http_400"
    assert bad.result.detail == "context too long"


def test_failure_reasons_in_words():
    assert failure_reason("connection_refused") == "connection refused"
    assert failure_reason("http_502") == "HTTP 502" and failure_reason("http_401").startswith("HTTP 401: ")


def test_api_key_headers_and_scrubbing(monkeypatch):
    monkeypatch.setenv("POLYVLM_TEST_KEY", "sk-secret")
    assert ApiKey("POLYVLM_TEST_KEY").headers() == {"Authorization": "Bearer sk-secret"}
    assert ApiKey("POLYVLM_TEST_KEY", "api-key").headers() == {"api-key": "sk-secret"}
    assert ApiKey("POLYVLM_TEST_KEY").scrub("bad key sk-secret") == "bad key ***"
    assert ApiKey("").headers() == {} and ApiKey("").scrub("text") == "text"
    monkeypatch.delenv("POLYVLM_TEST_KEY")
    with pytest.raises(RecipeError, match=r"\$POLYVLM_TEST_KEY, but it is not set"):
        ApiKey("POLYVLM_TEST_KEY").headers()
