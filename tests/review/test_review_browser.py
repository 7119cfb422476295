"""The annotate flow in real headless Chromium (Selenium + /usr/bin/chromedriver) against a real server
process: log in, rate with the keyboard, edit, submit, next; two annotators on shared items; a kill -9
mid-session; hostile model output; the image route, admin token and CSRF checks (over plain HTTP too)."""

import os
import re
import shutil
import sqlite3

import pytest
import requests
from review_projects import make_project, samples
from review_server import ReviewServer

pytestmark = pytest.mark.skipif(
    not (shutil.which("chromium") and os.path.exists("/usr/bin/chromedriver")),
    reason="needs Debian chromium and chromium-driver (scripts/system-packages.txt)",
)


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'chromium'}"):  # fmt: skip
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


@pytest.fixture
def project(tmp_path):
    """6 items with a photo, 2 annotators, every item shared; item s2's answer carries a <script>."""
    path, result = make_project(
        tmp_path, samples(6, hostile=2, photo="llava__waterview.jpg"), ["ann1", "ann2"], 2, 1.0
    )
    return path, result


def _login(driver, url, name, token):
    driver.delete_all_cookies()
    driver.get(url + "/login")
    driver.find_element("id", "name").send_keys(name)
    driver.find_element("id", "token").send_keys(token)
    _and_wait(driver, driver.find_element("id", "login-button").click)
    assert re.search(r"/item/\d+$", driver.current_url), driver.page_source[:500]


def _rate_by_keyboard(driver, adequacy, fluency, decision_key):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    driver.find_element("tag name", "h2").click()  # focus on the page, not in a text field
    ActionChains(driver).send_keys(str(adequacy)).key_down(Keys.SHIFT).send_keys(str(fluency)).key_up(
        Keys.SHIFT
    ).send_keys(decision_key).perform()


def _and_wait(driver, action):
    """Do `action` (a click, a key) and wait until the browser has loaded the next page."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element("tag name", "html")
    action()

    def left(_driver) -> bool:
        try:
            old.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as e:
            # chromedriver asked mid-navigation may answer that the node has left the document instead
            if "does not belong to the document" in str(e):
                return True
            raise

    WebDriverWait(driver, 15).until(left)


def _submit(driver):
    _and_wait(driver, driver.find_element("id", "submit").click)


def _submitted(project):
    conn = sqlite3.connect(os.path.join(project, "review.sqlite"))
    return conn.execute(
        """SELECT a.annotator, i.item_key, s.version, s.ratings, s.messages FROM submissions s
           JOIN assignments a ON a.id = s.assignment_id JOIN items i ON i.id = a.item_id ORDER BY s.id"""
    ).fetchall()


def _item_key(driver):
    return re.search(r"item (s\d+) ·", driver.find_element("class name", "meta").text).group(1)


@pytest.mark.slow
def test_rate_edit_submit_next_for_two_annotators_with_hostile_output_shown_as_text(browser, project):
    import json

    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    path, init = project
    with ReviewServer(path) as server:
        _login(browser, server.url, "ann1", init.tokens["ann1"])
        assert "item 1 of 6 · 0 submitted" in browser.find_element("id", "progress").text
        image = browser.find_element("class name", "item-image")
        assert browser.execute_script("return arguments[0].naturalWidth", image) > 0  # the photo loaded
        assert "Answer number" in browser.find_element("class name", "source-text").text
        first = _item_key(browser)
        _rate_by_keyboard(browser, 4, 2, "a")
        turn = browser.find_element("id", "turn_1")
        turn.clear()
        turn.send_keys("Un chat dort sur le canapé rouge.")
        browser.find_element("id", "comment").send_keys("tournure corrigée")
        # submit by the shortcut, typed in the focused text field (an element reference would be stale on
        # the next page before its key-up is sent)
        chord = ActionChains(browser).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(Keys.CONTROL)
        _and_wait(browser, chord.perform)
        assert "item 2 of 6 · 1 submitted" in browser.find_element("id", "progress").text
        # the rest of ann1's items: rate, submit with the button, next
        for _ in range(5):
            key = _item_key(browser)
            if key == "s2":  # the hostile answer is shown as text and its script never ran
                assert "<script>window.__xss = 1</script><b>bold?</b>" in browser.find_element(
                    "id", "turn_1"
                ).get_attribute("value")
                assert browser.execute_script("return window.__xss") is None
                assert not browser.find_elements("css selector", "b")
            _rate_by_keyboard(browser, 3, 3, "r" if key == "s2" else "a")
            _submit(browser)
        assert "6 of 6 items submitted" in browser.find_element("id", "progress").text

        _login(browser, server.url, "ann2", init.tokens["ann2"])  # the same items: none of ann1's work shows
        assert "Un chat dort sur le canapé rouge." not in browser.page_source
        assert "tournure corrigée" not in browser.page_source
        assert not browser.find_elements("css selector", "input[type=radio]:checked")
        key = _item_key(browser)
        _rate_by_keyboard(browser, 2, 5, "r")
        _submit(browser)
        assert "1 submitted" in browser.find_element("id", "progress").text
    rows = _submitted(path)
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
def test_a_server_killed_mid_session_loses_nothing_submitted(browser, project):
    path, init = project
    server = ReviewServer(path).start()
    try:
        _login(browser, server.url, "ann1", init.tokens["ann1"])
        done = []
        for _ in range(3):
            done.append(_item_key(browser))
            _rate_by_keyboard(browser, 5, 4, "a")
            browser.find_element("id", "turn_1").send_keys(" (revu)")
            _submit(browser)
        browser.find_element("id", "turn_1").send_keys(" brouillon non soumis")  # typed, never submitted
        server.kill()  # SIGKILL mid-session
        assert len(_submitted(path)) == 3  # readable at once by another process: committed, not buffered
        server.start()  # the same port: the browser's session cookie is still valid
        browser.get(server.url + "/next")
        assert "item 4 of 6 · 3 submitted" in browser.find_element("id", "progress").text
        browser.get(server.url + "/item/1")
        assert "submitted (version 1)" in browser.find_element("id", "submitted").text
        assert browser.find_element("id", "turn_1").get_attribute("value").endswith("(revu)")
        browser.get(server.url + "/item/4")
        _rate_by_keyboard(browser, 1, 1, "r")
        _submit(browser)
        assert "item 5 of 6 · 4 submitted" in browser.find_element("id", "progress").text
    finally:
        server.kill()
    rows = _submitted(path)
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
        rating = {"adequacy": "3", "fluency": "3", "decision": "accept", "nonce": nonce}
        assert s.post(url + "/item/1", data=rating).status_code == 403  # no token
        assert s.post(url + "/item/1", data={**rating, "csrf": "forged"}).status_code == 403
        other, _ = _session(url, "ann2", init.tokens["ann2"])  # another session's token is no good either
        assert s.post(url + "/item/1", data={**rating, "csrf": _csrf_of(other, url)}).status_code == 403
        assert _submitted(path) == []
        assert s.post(url + "/item/1", data={**rating, "csrf": csrf}).status_code == 200
        assert len(_submitted(path)) == 1
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
                "turn_0": "<image>\nQue voit-on ?", "turn_1": "Version finale.", "note": "tranché"}  # fmt: skip
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
        _and_wait(browser, browser.find_element("id", "login-button").click)
        rows = browser.find_elements("css selector", "#disputed tr")[1:]
        assert [r.text.split()[0] for r in rows] == ["s0", "s1"] and all("open" in r.text for r in rows)
        _and_wait(browser, rows[0].find_element("tag name", "a").click)
        assert len(browser.find_elements("class name", "review")) == 2  # both reviews side by side
        turn = browser.find_element("id", "turn_1")
        turn.clear()
        turn.send_keys("Version arbitrée.")
        for choice in ("adequacy-5", "fluency-4", "decision-accept"):
            browser.find_element("id", choice).click()
        _and_wait(browser, browser.find_element("css selector", "#adjudicate button").click)
        assert "adjudicated" in browser.find_elements("css selector", "#disputed tr")[1].text
        browser.get(server.url + "/admin/agreement")
        assert "Krippendorff" in browser.page_source and browser.find_elements("css selector", "svg rect")
    adj = connect(path).execute("SELECT messages, ratings FROM adjudications").fetchall()
    assert len(adj) == 1 and "Version arbitrée." in adj[0]["messages"]
