"""The annotate flow in real headless Chromium (Selenium + /usr/bin/chromedriver) against a real server
process: log in, rate with the keyboard, edit, submit, next; two annotators on shared items; a kill -9
mid-session; hostile model output; the image route, admin token and CSRF checks (over plain HTTP too)."""

import re

import pytest
import requests
from review_browser import (
    HAVE_CHROMIUM,
    NO_CHROMIUM,
    and_wait,
    item_key,
    login,
    rate_by_keyboard,
    submit_page,
    submitted,
)
from review_projects import make_project, samples
from review_server import ReviewServer

pytestmark = pytest.mark.skipif(not HAVE_CHROMIUM, reason=NO_CHROMIUM)


@pytest.fixture
def project(tmp_path):
    """6 items with a photo, 2 annotators, every item shared; item s2's answer carries a <script>."""
    path, result = make_project(
        tmp_path, samples(6, hostile=2, photo="llava__waterview.jpg"), ["ann1", "ann2"], 2, 1.0
    )
    return path, result


@pytest.mark.slow
def test_rate_edit_submit_next_for_two_annotators_with_hostile_output_shown_as_text(browser, project):
    import json

    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    path, init = project
    with ReviewServer(path) as server:
        login(browser, server.url, "ann1", init.tokens["ann1"])
        assert "item 1 of 6 · 0 submitted" in browser.find_element("id", "progress").text
        image = browser.find_element("class name", "item-image")
        assert browser.execute_script("return arguments[0].naturalWidth", image) > 0  # the photo loaded
        assert "Answer number" in browser.find_element("class name", "source-text").text
        first = item_key(browser)
        rate_by_keyboard(browser, 4, 2, "a")
        turn = browser.find_element("id", "turn_1")
        turn.clear()
        turn.send_keys("Un chat dort sur le canapé rouge.")
        browser.find_element("id", "comment").send_keys("tournure corrigée")
        # submit by the shortcut, typed in the focused text field (an element reference would be stale on
        # the next page before its key-up is sent)
        chord = ActionChains(browser).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(Keys.CONTROL)
        and_wait(browser, chord.perform)
        assert "item 2 of 6 · 1 submitted" in browser.find_element("id", "progress").text
        # the rest of ann1's items: rate, submit with the button, next
        for _ in range(5):
            key = item_key(browser)
            if key == "s2":  # the hostile answer is shown as text and its script never ran
                assert "<script>window.__xss = 1</script><b>bold?</b>" in browser.find_element(
                    "id", "turn_1"
                ).get_attribute("value")
                assert browser.execute_script("return window.__xss") is None
                assert not browser.find_elements("css selector", "b")
            rate_by_keyboard(browser, 3, 3, "r" if key == "s2" else "a")
            submit_page(browser)
        assert "6 of 6 items submitted" in browser.find_element("id", "progress").text

        login(browser, server.url, "ann2", init.tokens["ann2"])  # the same items: none of ann1's work shows
        assert "Un chat dort sur le canapé rouge." not in browser.page_source
        assert "tournure corrigée" not in browser.page_source
        assert not browser.find_elements("css selector", "input[type=radio]:checked")
        key = item_key(browser)
        rate_by_keyboard(browser, 2, 5, "r")
        submit_page(browser)
        assert "1 submitted" in browser.find_element("id", "progress").text
    rows = submitted(path)
    assert len(rows) == 7
    ann1_first = next(r for r in rows if r[0] == "ann1" and r[1] == first)
    assert json.loads(ann1_first[3]) == {"adequacy": 4, "fluency": 2, "decision": "accept"}
    assert json.loads(ann1_first[4])[1] == "Un chat dort sur le canapé rouge."
    assert json.loads(next(r for r in rows if r[0] == "ann2")[3]) == {
        "adequacy": 2,
        "fluency": 5,
        "decision": "reject",
    }
    assert {r[1] for r in rows if r[0] == "ann2"} == {key}


@pytest.mark.slow
def test_a_server_killed_mid_session_loses_nothingsubmitted(browser, project):
    path, init = project
    server = ReviewServer(path).start()
    try:
        login(browser, server.url, "ann1", init.tokens["ann1"])
        done = []
        for _ in range(3):
            done.append(item_key(browser))
            rate_by_keyboard(browser, 5, 4, "a")
            browser.find_element("id", "turn_1").send_keys(" (revu)")
            submit_page(browser)
        browser.find_element("id", "turn_1").send_keys(" brouillon non soumis")  # typed, never submitted
        server.kill()  # SIGKILL mid-session
        assert len(submitted(path)) == 3  # readable at once by another process: committed, not buffered
        server.start()  # the same port: the browser's session cookie is still valid
        browser.get(server.url + "/next")
        assert "item 4 of 6 · 3 submitted" in browser.find_element("id", "progress").text
        browser.get(server.url + "/item/1")
        assert "submitted (version 1)" in browser.find_element("id", "submitted").text
        assert browser.find_element("id", "turn_1").get_attribute("value").endswith("(revu)")
        browser.get(server.url + "/item/4")
        rate_by_keyboard(browser, 1, 1, "r")
        submit_page(browser)
        assert "item 5 of 6 · 4 submitted" in browser.find_element("id", "progress").text
    finally:
        server.kill()
    rows = submitted(path)
    assert [r[1] for r in rows[:3]] == done and len(rows) == 4 and len({r[1] for r in rows}) == 4
    assert not any("brouillon" in r[4] for r in rows)


def _session(url, name, token):
    s = requests.Session()
    csrf = re.search(r'name="csrf" value="([^"]+)"', s.get(url + "/login").text).group(1)
    r = s.post(url + "/login", data={"name": name, "token": token, "csrf": csrf})
    assert r.status_code == 200 and "/item/" in r.url
    cookie = r.history[0].headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    after = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    assert after != csrf  # logging in starts a new session: the token seen before it is void
    return s, after


def test_image_route_admin_token_and_csrf_are_enforced(project):
    path, init = project
    with ReviewServer(path) as server:
        url = server.url
        assert requests.get(url + "/next", allow_redirects=False).headers["location"] == "/login"
        login = {"name": "ann1", "token": init.tokens["ann1"]}  # a login without the page's CSRF token
        assert requests.post(url + "/login", data=login).status_code == 403
        s, csrf = _session(url, "ann1", init.tokens["ann1"])
        page = s.get(url + "/item/1")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        name = re.search(r'src="/image/([0-9a-f]{64}\.jpg)"', page.text).group(1)
        assert s.get(f"{url}/image/{name}").headers["content-type"] == "image/jpeg"
        assert requests.get(f"{url}/image/{name}").status_code == 403  # not logged in
        for attack in ("../review.sqlite", "..%2Freview.sqlite", "..%2F..%2Freview.sqlite", "%2Fetc%2Fpasswd",
                       f"{name}/../../review.sqlite", "....//review.sqlite"):  # fmt: skip
            r = s.get(f"{url}/image/{attack}")
            assert r.status_code == 404 and b"SQLite" not in r.content and b"root:" not in r.content, attack
        nonce = re.search(r'name="nonce" value="([^"]+)"', page.text).group(1)
        rating = {"adequacy": "3", "fluency": "3", "decision": "accept", "nonce": nonce, "base_version": "0"}
        assert s.post(url + "/item/1", data=rating).status_code == 403  # no token
        assert s.post(url + "/item/1", data={**rating, "csrf": "forged"}).status_code == 403
        other, _ = _session(url, "ann2", init.tokens["ann2"])  # another session's token is no good either
        assert s.post(url + "/item/1", data={**rating, "csrf": _csrf_of(other, url)}).status_code == 403
        assert submitted(path) == []
        assert s.post(url + "/item/1", data={**rating, "csrf": csrf}).status_code == 200
        assert len(submitted(path)) == 1
        # admin pages: refused without the admin token, for annotators, and with a wrong token
        assert requests.get(url + "/admin").status_code == 403
        assert s.get(url + "/admin").status_code == 403 and s.get(url + "/admin/agreement").status_code == 403
        assert s.post(url + "/admin/item/1", data={"csrf": csrf, "nonce": nonce}).status_code == 403
        admin = requests.Session()
        admin_csrf = re.search(r'name="csrf" value="([^"]+)"', admin.get(url + "/admin/login").text).group(1)
        assert (
            admin.post(
                url + "/admin/login", data={"token": init.tokens["ann1"], "csrf": admin_csrf}
            ).status_code
            == 403
        )
        ok = admin.post(url + "/admin/login", data={"token": init.admin_token, "csrf": admin_csrf})
        assert ok.status_code == 200 and "Project overview" in ok.text
        admin_csrf = re.search(r'name="csrf" value="([^"]+)"', ok.text).group(1)
        assert "Inter-annotator agreement" in admin.get(url + "/admin/agreement").text
        form = {"csrf": admin_csrf, "nonce": "n" * 20, "adequacy": "5", "fluency": "5", "decision": "accept",
                "turn_0": "<image>\nQue voit-on ?", "turn_1": "Version finale.", "note": "tranché",
                "base_adjudication": "0"}  # fmt: skip
        assert admin.post(url + "/admin/item/1", data={**form, "csrf": "forged"}).status_code == 403
        assert admin.post(url + "/admin/item/1", data=form).status_code == 200
        assert "Version finale." in admin.get(url + "/admin/item/1").text


def _csrf_of(session, url):
    return re.search(r'name="csrf" value="([^"]+)"', session.get(url + "/item/1").text).group(1)


def test_admin_adjudicates_a_disputed_item_and_reads_the_agreement_page(browser, project):
    from review_projects import assignment, form

    from polyvlm.review.config import ReviewConfig
    from polyvlm.review.store import connect
    from polyvlm.review.submissions import submit

    path, init = project
    conn, config = connect(path), ReviewConfig()
    for item in range(1, 7):  # ann2 rejects what ann1 accepts on items 1 and 2: two disputes
        submit(conn, config, assignment(path, "ann1", item), form(4, 4, "accept"))
        submit(conn, config, assignment(path, "ann2", item), form(4, 3, "reject" if item <= 2 else "accept"))
    with ReviewServer(path) as server:
        browser.get(server.url + "/admin")
        assert "admin only" in browser.page_source  # no admin session yet
        browser.get(server.url + "/admin/login")
        browser.find_element("id", "token").send_keys(init.admin_token)
        and_wait(browser, browser.find_element("id", "login-button").click)
        rows = browser.find_elements("css selector", "#disputed tr")[1:]
        assert [r.text.split()[0] for r in rows] == ["s0", "s1"] and all("open" in r.text for r in rows)
        and_wait(browser, rows[0].find_element("tag name", "a").click)
        assert len(browser.find_elements("class name", "review")) == 2  # both reviews side by side
        turn = browser.find_element("id", "turn_1")
        turn.clear()
        turn.send_keys("Version arbitrée.")
        for choice in ("adequacy-5", "fluency-4", "decision-accept"):
            browser.find_element("id", choice).click()
        and_wait(browser, browser.find_element("css selector", "#adjudicate button").click)
        assert "adjudicated" in browser.find_elements("css selector", "#disputed tr")[1].text
        browser.get(server.url + "/admin/agreement")
        assert "Krippendorff" in browser.page_source and browser.find_elements("css selector", "svg rect")
    adj = connect(path).execute("SELECT messages, ratings FROM adjudications").fetchall()
    assert len(adj) == 1 and "Version arbitrée." in adj[0]["messages"]
