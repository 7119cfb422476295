"""The annotation web app of a review project (Starlette, served by uvicorn)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from polyvlm.review.store import SESSIONS_SCHEMA
from polyvlm.review.web_admin import admin_routes
from polyvlm.review.web_annotator import annotator_routes
from polyvlm.review.web_context import ReviewContext
from polyvlm.review.web_security import SecurityHeaders
from polyvlm.review.web_sessions import ServerSessions


def build_app(project: str) -> Starlette:
    """The app for `project`; sessions live in its database, so they survive a restart and end at logout."""
    ctx = ReviewContext(project)
    conn = ctx.db()
    conn.executescript(SESSIONS_SCHEMA)  # a project made before sessions moved server-side gets the table
    conn.execute("DELETE FROM meta WHERE key = 'session_secret'")  # where such a project kept its secret
    routes = [
        *annotator_routes(ctx),
        *admin_routes(ctx),
        Mount("/static", StaticFiles(packages=[("polyvlm.review", "static")]), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(ServerSessions, store=ctx.sessions),
    ]
    return Starlette(routes=routes, middleware=middleware)
