"""The annotator's routes: log in, the item page (rate, edit, comment, submit), next, images."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from polyvlm.review.annotator_queue import assignment_at, item_view, next_position, progress
from polyvlm.review.image_store import stored_image_path
from polyvlm.review.login_check import annotator_token_ok
from polyvlm.review.submissions import Conflict, submit
from polyvlm.review.web_context import ReviewContext
from polyvlm.review.web_security import annotator_of, check_csrf
from polyvlm.review.web_sessions import end_session, renew_session


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _who(request: Request) -> str:
    name = annotator_of(request)
    if name is None:
        raise HTTPException(303, headers={"location": "/login"})
    return name


def annotator_routes(ctx: ReviewContext) -> list[Route]:
    """Routes for annotators (every page but /login needs a logged-in session)."""

    async def home(request: Request) -> Response:
        if request.session.get("admin") is True and annotator_of(request) is None:
            return RedirectResponse("/admin", 303)
        return RedirectResponse("/next" if annotator_of(request) else "/login", 303)

    async def login_page(request: Request) -> Response:
        return ctx.page(request, "login.html", action="/login", error="")

    async def login(request: Request) -> Response:
        form = await _form(request)
        check_csrf(request, form)
        name, token = form.get("name", ""), form.get("token", "")
        outcome, wait = await ctx.logins.attempt(
            request, name, lambda: annotator_token_ok(ctx.db(), name, token)
        )
        if outcome == "wait":
            return ctx.login_refused(request, "/login", wait)
        if outcome == "wrong":
            return ctx.page(request, "login.html", 403, action="/login", error="unknown name or wrong token")
        renew_session(request)  # a new session id: nothing of an earlier session carries over
        request.session["annotator"] = name
        response = RedirectResponse("/next", 303)
        ctx.logins.remember_device(response, name)
        return response

    async def logout(request: Request) -> Response:
        check_csrf(request, await _form(request))
        end_session(request)  # the row is deleted: the old cookie opens nothing any more
        return RedirectResponse("/login", 303)

    async def next_item(request: Request) -> Response:
        name = _who(request)
        pos = await run_in_threadpool(next_position, ctx.db(), name)
        if pos is None:
            done = await run_in_threadpool(progress, ctx.db(), name)
            return ctx.page(request, "done.html", progress=done)
        return RedirectResponse(f"/item/{pos}", 303)

    def _item_page(
        request: Request, name: str, pos: int, error: str = "", status: int = 200, conflict: Conflict | None = None,
        form: dict[str, str] | None = None,
    ) -> Response:  # fmt: skip
        conn = ctx.db()
        a = assignment_at(conn, name, pos)
        if a is None:
            raise HTTPException(404, f"you have no item {pos}")
        view = item_view(conn, a["item_id"], a["id"])
        if conflict is not None and form is not None:  # the form keeps the annotator's unsaved answer
            for turn, text in zip(view["turns"], conflict.sent, strict=True):
                turn["text"] = text
            view["own"] = {"ratings": {f.name: form.get(f.name) for f in ctx.config.fields},
                           "comment": form.get("comment", ""), "version": conflict.current}  # fmt: skip
            view["base_version"] = conflict.current
        return ctx.page(
            request, "item.html", status, pos=pos, progress=progress(conn, name), error=error, conflict=conflict,
            **view,
        )  # fmt: skip

    async def item(request: Request) -> Response:
        name = _who(request)
        return await run_in_threadpool(_item_page, request, name, request.path_params["pos"])

    async def item_submit(request: Request) -> Response:
        name = _who(request)
        pos = request.path_params["pos"]
        form = await _form(request)
        check_csrf(request, form)

        def work() -> Response:
            a = assignment_at(ctx.db(), name, pos)
            if a is None:
                raise HTTPException(404, f"you have no item {pos}")
            try:
                with ctx.write_lock:
                    submit(ctx.db(), ctx.config, a, form)
            except Conflict as c:
                return _item_page(request, name, pos, str(c), 409, conflict=c, form=form)
            except ValueError as e:
                return _item_page(request, name, pos, error=str(e), status=400)
            return RedirectResponse("/next", 303)

        return await run_in_threadpool(work)

    async def image(request: Request) -> Response:
        if annotator_of(request) is None and request.session.get("admin") is not True:
            raise HTTPException(403, "log in to see images")
        path = stored_image_path(ctx.project, request.path_params["name"])
        if path is None:
            raise HTTPException(404, "no such image in this project")
        return FileResponse(path, media_type="image/jpeg")

    return [
        Route("/", home),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/next", next_item),
        Route("/item/{pos:int}", item, methods=["GET"]),
        Route("/item/{pos:int}", item_submit, methods=["POST"]),
        Route("/image/{name:path}", image),
    ]
