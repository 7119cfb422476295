"""What every route of the web app shares: the project folder, its rating form, a database connection per
worker thread, and the templates (Jinja2 with autoescape on: model output is untrusted text)."""

from __future__ import annotations

import math
import secrets
import sqlite3
import threading
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from polyvlm.review.config import ReviewConfig
from polyvlm.review.login_guard import LoginGuard
from polyvlm.review.session_key import SessionKey
from polyvlm.review.store import connect, get_meta
from polyvlm.review.web_security import csrf_token
from polyvlm.review.web_sessions import SessionStore


@dataclass
class ReviewContext:
    """A served project."""

    project: str
    config: ReviewConfig = field(init=False)
    templates: Environment = field(init=False)
    _local: threading.local = field(default_factory=threading.local, init=False)
    write_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    """writers of this process queue here instead of in SQLite's busy handler, whose sleeps grow to 100 ms"""

    session_key: SessionKey = field(init=False)
    sessions: SessionStore = field(init=False)
    logins: LoginGuard = field(init=False)

    def __post_init__(self) -> None:
        self.config = ReviewConfig.model_validate(get_meta(self.db(), "config"))
        self.session_key = SessionKey(self.project)
        self.sessions = SessionStore(self.db, self.session_key, self.write_lock)
        self.logins = LoginGuard(self.session_key)
        self.templates = Environment(
            loader=PackageLoader("polyvlm.review", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
        )

    def db(self) -> sqlite3.Connection:
        """This thread's connection (sqlite3 connections are not shared across threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = connect(self.project)
        return conn

    def page(self, request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        """Render a template with the session's CSRF token and a fresh form nonce."""
        body = self.templates.get_template(name).render(
            csrf=csrf_token(request),
            nonce=secrets.token_urlsafe(18),
            annotator=request.session.get("annotator"),
            admin=request.session.get("admin") is True,
            config=self.config,
            **values,
        )
        return HTMLResponse(body, status_code=status)

    def login_refused(self, request: Request, action: str, wait_s: float) -> HTMLResponse:
        """429: too many failed logins from here or for this name; the token was not checked."""
        seconds = max(1, math.ceil(wait_s))
        response = self.page(
            request, "login.html", 429, action=action, admin_login=action.startswith("/admin"),
            error=f"too many failed logins: try again in {seconds} s",
        )  # fmt: skip
        response.headers["retry-after"] = str(seconds)
        return response
