"""Over HTTP against a real server: progress counts items whatever their versions, "next" stops at the last
item, and a missing item is a 404 on every route (never a 500 with a traceback)."""

import re

import requests
from review_http import admin_session, field, try_login
from review_projects import make_project, samples
from review_server import ReviewServer


def _submit(s: requests.Session, url: str, pos: int) -> requests.Response:
    page = s.get(f"{url}/item/{pos}").text
    form = {k: field(page, k) for k in ("csrf", "nonce")}
    if 'name="base_version"' in page:
        form["base_version"] = field(page, "base_version")
    return s.post(f"{url}/item/{pos}", data={**form, "adequacy": "4", "fluency": "4", "decision": "accept"})


def test_progress_and_admin_counts_are_per_item_and_next_stops_at_the_last(tmp_path):
    path, init = make_project(tmp_path, samples(3), ["ann1"], 1, 0.0)
    with ReviewServer(path) as server:
        url = server.url
        s = requests.Session()
        try_login(s, url, "ann1", init.tokens["ann1"])
        for _ in range(3):  # item 1 submitted three times: three versions, one item
            assert _submit(s, url, 1).status_code == 200
        page = s.get(url + "/item/1").text
        assert "item 1 of 3 · 1 submitted" in page and "submitted (version 3)" in page
        last = s.get(url + "/item/3").text
        assert 'id="next"' not in last and 'id="prev"' in last
        assert s.get(url + "/item/4").status_code == 404
        admin, _ = admin_session(url, init.admin_token)
        row = re.search(r"<tr><td>ann1</td><td>(\d+)</td><td>(\d+)</td></tr>", admin.get(url + "/admin").text)
        assert row.groups() == ("1", "3")


def test_a_missing_item_is_a_404_on_every_route(tmp_path):
    path, init = make_project(tmp_path, samples(2), ["ann1"], 1, 0.0)
    with ReviewServer(path) as server:
        url = server.url
        s = requests.Session()
        try_login(s, url, "ann1", init.tokens["ann1"])
        csrf = field(s.get(url + "/item/1").text, "csrf")
        admin, admin_csrf = admin_session(url, init.admin_token)
        rating = {"nonce": "n" * 20, "adequacy": "4", "fluency": "4", "decision": "accept", "note": "",
                  "base_version": "0", "base_adjudication": "0", "turn_0": "q", "turn_1": "a"}  # fmt: skip
        answers = {
            "GET /item/99": s.get(url + "/item/99"),
            "POST /item/99": s.post(url + "/item/99", data={**rating, "csrf": csrf}),
            "GET /admin/item/99": admin.get(url + "/admin/item/99"),
            "POST /admin/item/99": admin.post(url + "/admin/item/99", data={**rating, "csrf": admin_csrf}),
            "GET /image/<missing>": s.get(url + "/image/" + "0" * 64 + ".jpg"),
        }
        for route, r in answers.items():
            assert r.status_code == 404 and "Traceback" not in r.text, route
