"""The annotation web app of a review project (Starlette, served by uvicorn)."""

from __future__ import annotations

from datetime import timedelta

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from polyvlm.review.store import get_meta
from polyvlm.review.web_admin import admin_routes
from polyvlm.review.web_annotator import annotator_routes
from polyvlm.review.web_context import ReviewContext
from polyvlm.review.web_security import SecurityHeaders

SESSION_DAYS = 7


def build_app(project: str) -> Starlette:
    """The app for `project`; sessions are signed with the project's own secret, so they survive a restart."""
    ctx = ReviewContext(project)
    secret = get_meta(ctx.db(), "session_secret")
    routes = [
        *annotator_routes(ctx),
        *admin_routes(ctx),
        Mount("/static", StaticFiles(packages=[("polyvlm.review", "static")]), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(
            SessionMiddleware,
            secret_key=secret,
            session_cookie="polyvlm_review",
            same_site="strict",
            max_age=int(timedelta(days=SESSION_DAYS).total_seconds()),
            https_only=False,
        ),  # fmt: skip
    ]
    return Starlette(routes=routes, middleware=middleware)
