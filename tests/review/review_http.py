"""Talking to a running review server with requests: log in as an annotator or the admin, read a form's fields."""

from __future__ import annotations

import re

import requests


def field(html: str, name: str) -> str:
    """The value of the hidden form field `name` in a page."""
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def try_login(session: requests.Session, url: str, name: str, token: str) -> requests.Response:
    """POST the login form (with the login page's CSRF token); the final response."""
    csrf = field(session.get(url + "/login").text, "csrf")
    return session.post(url + "/login", data={"name": name, "token": token, "csrf": csrf})


def admin_session(url: str, token: str) -> tuple[requests.Session, str]:
    """A session logged in with the admin token, and its CSRF token."""
    s = requests.Session()
    csrf = field(s.get(url + "/admin/login").text, "csrf")
    page = s.post(url + "/admin/login", data={"token": token, "csrf": csrf})
    assert page.status_code == 200 and "Project overview" in page.text
    return s, field(page.text, "csrf")
