"""Logins against a real server on 127.0.0.1: a flood hits the limit while the annotator's own browser still
logs in; logout ends a session (the old cookie opens nothing); rotate-secret ends them all."""

import os
import subprocess
import sys

import pytest
import requests
from review_http import field, try_login
from review_projects import make_project, samples
from review_server import ReviewServer


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path, samples(3), ["ann1", "ann2"], 1, 0.0)


def test_a_login_flood_hits_the_limit_while_the_annotators_own_browser_still_logs_in(project):
    path, init = project
    with ReviewServer(path) as server:
        url = server.url
        own = requests.Session()  # ann1's browser: logged in before, so it holds a device cookie
        assert "/item/" in try_login(own, url, "ann1", init.tokens["ann1"]).url
        own.post(url + "/logout", data={"csrf": field(own.get(url + "/item/1").text, "csrf")})
        assert own.get(url + "/next", allow_redirects=False).headers["location"] == "/login"

        flood = requests.Session()  # from the same address (127.0.0.1), without that cookie
        csrf = field(flood.get(url + "/login").text, "csrf")
        answers = []
        for i in range(40):  # wrong tokens for ann1 and made-up names, in turn
            name = "ann1" if i % 2 == 0 else f"ghost{i}"
            r = flood.post(url + "/login", data={"name": name, "token": "wrong", "csrf": csrf})
            answers.append(r.status_code)
            assert r.status_code in (403, 429) and "/item/" not in r.url
            if r.status_code == 429:
                assert int(r.headers["retry-after"]) >= 1 and "too many failed logins" in r.text
        assert answers.count(429) >= 10 and answers.count(403) <= 25
        # the right token from a new browser is refused unchecked while the name and the address wait...
        assert try_login(requests.Session(), url, "ann1", init.tokens["ann1"]).status_code == 429
        # ...but ann1's own browser logs in, and its cookie is no pass for another name
        back = try_login(own, url, "ann1", init.tokens["ann1"])
        assert back.status_code == 200 and "/item/" in back.url
        assert try_login(own, url, "ann2", init.tokens["ann2"]).status_code == 429


def test_logout_ends_the_session_and_rotation_ends_them_all(project):
    path, init = project
    with ReviewServer(path) as server:
        url = server.url
        s = requests.Session()
        try_login(s, url, "ann1", init.tokens["ann1"])
        old = s.cookies.get("polyvlm_review")

        def with_old_cookie() -> str:
            r = requests.get(url + "/next", cookies={"polyvlm_review": old}, allow_redirects=False)
            return r.headers["location"]

        assert with_old_cookie().startswith("/item/")  # the cookie alone is the session...
        s.post(url + "/logout", data={"csrf": field(s.get(url + "/item/1").text, "csrf")})
        assert with_old_cookie() == "/login"  # ...until logout deletes it server-side

        key_file = os.path.join(path, "session.key")
        key_before = open(key_file, "rb").read()
        a, b = requests.Session(), requests.Session()
        try_login(a, url, "ann1", init.tokens["ann1"])
        try_login(b, url, "ann2", init.tokens["ann2"])
        res = subprocess.run([sys.executable, "-m", "polyvlm.cli", "review", "rotate-secret", path],
                             capture_output=True, text=True, timeout=120)  # fmt: skip
        assert res.returncode == 0 and "sessions ended" in res.stdout, res.stderr
        assert open(key_file, "rb").read() != key_before and os.stat(key_file).st_mode & 0o777 == 0o600
        for s in (a, b):  # the running server uses the new key at once: every session is over
            assert s.get(url + "/next", allow_redirects=False).headers["location"] == "/login"
        assert "/item/" in try_login(requests.Session(), url, "ann2", init.tokens["ann2"]).url
