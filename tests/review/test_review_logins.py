"""Logins without a server: doubling waits per key, the same scrypt work for unknown and known names, device
cookies bound to a name and the key."""

import hashlib
import os

import pytest
from review_projects import make_project, samples

from polyvlm.review import tokens
from polyvlm.review.device_cookies import device_id, new_device_cookie
from polyvlm.review.login_check import admin_token_ok, annotator_token_ok
from polyvlm.review.login_limits import LoginLimiter
from polyvlm.review.store import connect


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path, samples(3), ["ann1", "ann2"], 1, 0.0)


def test_waits_start_after_the_free_tries_double_and_are_forgotten():
    clock = [0.0]
    limits = LoginLimiter(free=3, base_s=2.0, max_s=10.0, forget_s=100.0, clock=lambda: clock[0])
    for _ in range(3):
        assert limits.wait_s("ann1") == 0
        limits.strike("ann1")
    assert limits.wait_s("ann1") == 2.0 and limits.wait_s("ann2") == 0  # keys are apart
    clock[0] = 2.0
    limits.strike("ann1")
    assert limits.wait_s("ann1") == 4.0
    clock[0] = 6.0
    for _ in range(3):
        limits.strike("ann1")
    assert limits.wait_s("ann1") == 10.0  # 32 s capped
    limits.pardon("ann1")
    assert limits.wait_s("ann1") == 10.0  # 16 s capped
    clock[0] = 200.0
    assert limits.wait_s("ann1") == 0  # a quiet spell forgets
    limits.strike("ann2")
    limits.clear("ann2")
    assert limits.wait_s("ann2") == 0


def test_unknown_and_known_names_cost_the_same_scrypt_call(project, monkeypatch):
    path, init = project
    conn = connect(path)
    admin_token_ok(conn, "warm-up")  # the dummy hash below is made once per process, not per login
    annotator_token_ok(conn, "nobody", "x")
    calls = []
    real = hashlib.scrypt

    def spy(password, *, salt, n, r, p, dklen, **kw):
        calls.append((n, r, p, dklen, len(salt)))
        return real(password, salt=salt, n=n, r=r, p=p, dklen=dklen, **kw)

    monkeypatch.setattr(tokens.hashlib, "scrypt", spy)
    results = {}
    for case, name, token in (("unknown", "nobody", "x" * 43), ("known, wrong", "ann1", "x" * 43),
                              ("known, right", "ann1", init.tokens["ann1"])):  # fmt: skip
        calls.clear()
        results[case] = annotator_token_ok(conn, name, token)
        assert len(calls) == 1, case  # exactly one key derivation whether or not the name exists
        assert calls[0] == (2**14, 8, 1, 32, 16), case
    assert results == {"unknown": False, "known, wrong": False, "known, right": True}


def test_a_device_cookie_is_bound_to_its_name_and_key():
    key, other = os.urandom(32), os.urandom(32)
    cookie = new_device_cookie(key, "ann1")
    assert device_id(key, cookie, "ann1") is not None
    assert device_id(key, cookie, "ann2") is None and device_id(other, cookie, "ann1") is None
    assert (
        device_id(key, cookie.replace("ann1", "ann2", 1), "ann2") is None
        and device_id(key, None, "a") is None
    )
