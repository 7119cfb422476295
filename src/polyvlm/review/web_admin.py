"""The admin's routes (admin token required): progress, the adjudication view, the agreement report."""

from __future__ import annotations

import json
import sqlite3

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from polyvlm.review.agreement import agreement_report
from polyvlm.review.agreement_page import agreement_html
from polyvlm.review.annotator_queue import item_view, progress
from polyvlm.review.disagreements import disagreeing_items
from polyvlm.review.login_check import admin_token_ok
from polyvlm.review.store import latest_adjudications
from polyvlm.review.submissions import Conflict, adjudicate
from polyvlm.review.web_context import ReviewContext
from polyvlm.review.web_security import check_csrf, require_admin
from polyvlm.review.web_sessions import renew_session

ADMIN = "admin"  # the admin's name for login limits and its device cookie (no annotator may be called so)


def _require_item(conn: sqlite3.Connection, item_id: int) -> None:
    if conn.execute("SELECT 1 FROM items WHERE id = ?", (item_id,)).fetchone() is None:
        raise HTTPException(404, f"no item {item_id}")


def admin_routes(ctx: ReviewContext) -> list[Route]:
    """Routes for the project's admin."""

    async def login_page(request: Request) -> Response:
        return ctx.page(request, "login.html", action="/admin/login", error="", admin_login=True)

    async def login(request: Request) -> Response:
        form = dict((await request.form()).items())
        check_csrf(request, form)
        token = str(form.get("token", ""))
        outcome, wait = await ctx.logins.attempt(request, ADMIN, lambda: admin_token_ok(ctx.db(), token))
        if outcome == "wait":
            return ctx.login_refused(request, "/admin/login", wait)
        if outcome == "wrong":
            return ctx.page(request, "login.html", 403, action="/admin/login", error="wrong admin token",
                            admin_login=True)  # fmt: skip
        renew_session(request)
        request.session["admin"] = True
        response = RedirectResponse("/admin", 303)
        ctx.logins.remember_device(response, ADMIN)
        return response

    def _overview(request: Request) -> Response:
        conn = ctx.db()
        names = [r["name"] for r in conn.execute("SELECT name FROM annotators ORDER BY name")]
        disputed = disagreeing_items(conn, ctx.config)
        adjudicated = latest_adjudications(conn)
        keys = {r["id"]: r["item_key"] for r in conn.execute("SELECT id, item_key FROM items")}
        rows = [
            {"id": i, "key": keys[i], "fields": f, "adjudicated": i in adjudicated}
            for i, f in disputed.items()
        ]
        return ctx.page(
            request, "admin.html", annotators=[(n, progress(conn, n)) for n in names], disputed=rows,
            items=len(keys),
        )  # fmt: skip

    async def overview(request: Request) -> Response:
        require_admin(request)
        return await run_in_threadpool(_overview, request)

    def _item(
        request: Request, item_id: int, error: str = "", status: int = 200, conflict: Conflict | None = None
    ) -> Response:
        conn = ctx.db()
        _require_item(conn, item_id)
        view = item_view(conn, item_id, None)
        reviews = conn.execute(
            """SELECT s.*, a.annotator FROM submissions s JOIN assignments a ON a.id = s.assignment_id
               WHERE a.item_id = ? ORDER BY s.submitted_at""",
            (item_id,),
        ).fetchall()
        reviews = [
            {**dict(r), "ratings": json.loads(r["ratings"]), "messages": json.loads(r["messages"])}
            for r in reviews
        ]
        adj = latest_adjudications(conn).get(item_id)
        if adj is not None:  # the form shows the final version as last saved
            for turn, text in zip(view["turns"], json.loads(adj["messages"]), strict=True):
                turn["text"] = text
        if conflict is not None:  # ...unless the admin's own unsaved text was refused: keep it in the form
            for turn, text in zip(view["turns"], conflict.sent, strict=True):
                turn["text"] = text
        return ctx.page(
            request, "adjudicate.html", status, reviews=reviews, error=error, conflict=conflict,
            adjudication=None if adj is None else {**dict(adj), "ratings": json.loads(adj["ratings"])},
            base_adjudication=0 if adj is None else adj["id"], **view,
        )  # fmt: skip

    async def item(request: Request) -> Response:
        require_admin(request)
        return await run_in_threadpool(_item, request, request.path_params["item"])

    async def item_adjudicate(request: Request) -> Response:
        require_admin(request)
        item_id = request.path_params["item"]
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        check_csrf(request, form)

        def work() -> Response:
            _require_item(ctx.db(), item_id)  # a missing item is a 404, never a traceback
            view = item_view(ctx.db(), item_id, None)
            try:
                with ctx.write_lock:
                    adjudicate(ctx.db(), ctx.config, item_id, form, len(view["turns"]))
            except Conflict as c:
                return _item(request, item_id, str(c), 409, conflict=c)
            except ValueError as e:
                return _item(request, item_id, str(e), 400)
            return RedirectResponse("/admin", 303)

        return await run_in_threadpool(work)

    async def agreement(request: Request) -> Response:
        require_admin(request)
        report = await run_in_threadpool(agreement_report, ctx.db(), ctx.config)
        return ctx.page(request, "agreement.html", body=agreement_html(report, ctx.config))

    return [
        Route("/admin/login", login_page, methods=["GET"]),
        Route("/admin/login", login, methods=["POST"]),
        Route("/admin", overview),
        Route("/admin/item/{item:int}", item, methods=["GET"]),
        Route("/admin/item/{item:int}", item_adjudicate, methods=["POST"]),
        Route("/admin/agreement", agreement),
    ]
