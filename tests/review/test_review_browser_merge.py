"""In real headless Chromium: the export keeps an edit only when every annotator's text agrees (an edit and a
plain accept wait for the admin, who adjudicates in the browser), and a page opened in one tab before another
tab's submit gets a conflict page with both texts instead of silently reverting that edit."""

import json
import sqlite3

import pytest
from click.testing import CliRunner
from review_browser import (
    HAVE_CHROMIUM,
    NO_CHROMIUM,
    and_wait,
    item_key,
    login,
    rate_by_keyboard,
    submit_page,
)
from review_projects import make_project, samples
from review_server import ReviewServer

from polyvlm.cli import cli

pytestmark = pytest.mark.skipif(not HAVE_CHROMIUM, reason=NO_CHROMIUM)


def _edit(driver, text):
    turn = driver.find_element("id", "turn_1")
    turn.clear()
    turn.send_keys(text)


def _export(project, out):
    res = CliRunner().invoke(cli, ["review", "export", project, "-o", str(out)])
    assert res.exit_code == 0, res.output
    lines = (out / "reviewed.jsonl").read_text(encoding="utf-8").splitlines()
    records = {r["metadata"]["review"]["project_item"]: r for r in map(json.loads, lines)}
    return json.loads((out / "export_stats.json").read_text()), records


@pytest.mark.slow
def test_an_edit_then_a_plain_accept_waits_for_adjudication_and_agreed_edits_are_exported(browser, tmp_path):
    path, init = make_project(tmp_path, samples(2), ["ann1", "ann2"], 2, 1.0)
    with ReviewServer(path) as server:
        login(browser, server.url, "ann1", init.tokens["ann1"])
        for _ in range(2):  # ann1 edits both items' answers
            key = item_key(browser)
            _edit(browser, f"Texte revu de {key}.")
            rate_by_keyboard(browser, 5, 5, "a")
            submit_page(browser)
        login(browser, server.url, "ann2", init.tokens["ann2"])
        plain = item_key(browser)  # ann2 accepts this one as generated...
        rate_by_keyboard(browser, 5, 5, "a")
        submit_page(browser)
        same = item_key(browser)  # ...and makes ann1's very edit on the other
        _edit(browser, f"Texte revu de {same}.")
        rate_by_keyboard(browser, 5, 4, "a")
        submit_page(browser)

        stats, records = _export(path, tmp_path / "out1")
        assert set(records) == {same} and records[same]["messages"][1]["content"] == f"Texte revu de {same}."
        assert stats["decided_by"]["edits_agree"] == 1 and stats["decided_by"]["disputed_edits"] == 1
        assert stats["edited_records"] == 1

        browser.delete_all_cookies()
        browser.get(server.url + "/admin/login")
        browser.find_element("id", "token").send_keys(init.admin_token)
        and_wait(browser, browser.find_element("id", "login-button").click)
        rows = browser.find_elements("css selector", "#disputed tr")[1:]
        assert len(rows) == 1 and rows[0].text.split()[0] == plain and "text" in rows[0].text
        and_wait(browser, rows[0].find_element("tag name", "a").click)
        shown = browser.find_element("class name", "reviews").text
        assert f"Texte revu de {plain}." in shown and "Réponse numéro" in shown  # both texts side by side
        _edit(browser, f"Texte revu de {plain}.")
        for choice in ("adequacy-5", "fluency-5", "decision-accept"):
            browser.find_element("id", choice).click()
        and_wait(browser, browser.find_element("css selector", "#adjudicate button").click)
    stats, records = _export(path, tmp_path / "out2")
    assert set(records) == {plain, same} and stats["decided_by"]["adjudicated"] == 1
    assert records[plain]["messages"][1]["content"] == f"Texte revu de {plain}."
    assert records[plain]["metadata"]["review"]["decided_by"] == "adjudicated"


@pytest.mark.slow
def test_a_stale_tab_gets_a_conflict_page_with_both_texts_and_overwrites_nothing(browser, tmp_path):
    path, init = make_project(tmp_path, samples(2, hostile=0), ["ann1"], 1, 0.0)
    with ReviewServer(path) as server:
        login(browser, server.url, "ann1", init.tokens["ann1"])
        browser.get(server.url + "/item/1")
        tab_a = browser.current_window_handle
        browser.switch_to.new_window("tab")  # the same session in a second tab
        browser.get(server.url + "/item/1")
        _edit(browser, "Texte de l'onglet B.")
        rate_by_keyboard(browser, 4, 4, "a")
        submit_page(browser)

        browser.switch_to.window(tab_a)  # still showing the page made before B's submit
        _edit(browser, "Texte de l'onglet A.")
        rate_by_keyboard(browser, 2, 2, "r")
        submit_page(browser)
        conflict = browser.find_element("id", "conflict")
        assert "version 1" in conflict.text
        assert "Texte de l'onglet B." in browser.find_element("id", "conflict-saved").text
        assert "Texte de l'onglet A." in browser.find_element("id", "conflict-yours").text
        assert browser.find_element("id", "turn_1").get_attribute("value") == "Texte de l'onglet A."
        assert browser.find_element("id", "decision-reject").is_selected()  # the answer is kept in the form
        assert browser.execute_script("return window.__xss") is None  # the hostile original stays text
        conn = sqlite3.connect(f"{path}/review.sqlite")
        assert [json.loads(m)[1] for (m,) in conn.execute("SELECT messages FROM submissions")] == [
            "Texte de l'onglet B."
        ]
        submit_page(browser)  # submitted again from the conflict page: a knowing overwrite
        assert "item 2 of 2 · 1 submitted" in browser.find_element("id", "progress").text
    rows = conn.execute("SELECT version, messages FROM submissions ORDER BY version").fetchall()
    assert [(v, json.loads(m)[1]) for v, m in rows] == [
        (1, "Texte de l'onglet B."),
        (2, "Texte de l'onglet A."),
    ]
