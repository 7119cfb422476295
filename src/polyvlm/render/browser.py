"""A headless Chromium page (Playwright over the Debian browser) that renders HTML and measures its lines.

Chromium is the layout engine: it shapes Japanese text, breaks lines by the CSS rules (line-break:
strict keeps small kana and closing brackets off a line's start), sets vertical-rl columns and ruby.
One browser per worker process, reused for every page; a page is one `set_content`, one measurement
(ground_truth.js) and one screenshot at device scale 1, so CSS pixels are image pixels.
"""

from __future__ import annotations

import atexit
import os
import queue
import shutil
import tempfile
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from importlib import resources
from typing import Any

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--font-render-hinting=none",  # glyph shapes do not depend on the machine's hinting setting
]


class BrowserMissing(RuntimeError):
    """No Chromium or no Playwright on this machine."""


class RenderFailed(RuntimeError):
    """The browser failed on a page (crashed, hung past the timeout, closed)."""


@dataclass(slots=True)
class RenderedPage:
    """A screenshot (PNG bytes) and what the page measured in itself (lines, blocks)."""

    png: bytes
    width: int
    height: int
    truth: dict[str, Any]


def chromium_path() -> str:
    """The Chromium executable: $POLYVLM_CHROMIUM, else chromium on PATH."""
    path = os.environ.get("POLYVLM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise BrowserMissing("no Chromium found: install Debian's chromium (scripts/system-packages.txt)")
    return path


class _BrowserThread:
    """A daemon thread that runs the calls given to it in order (alive during atexit, unlike an executor's)."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Future[Any], Any, tuple[Any, ...]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="chromium", daemon=True)
        self._thread.start()

    def call(self, fn: Any, *args: Any) -> Any:
        """fn(*args) on the thread; its result or its exception here."""
        future: Future[Any] = Future()
        self._jobs.put((future, fn, args))
        return future.result()

    def stop(self) -> None:
        """End the thread after the calls already given."""
        self._jobs.put(None)
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, fn, args = job
            try:
                future.set_result(fn(*args))
            except BaseException as e:  # handed to the caller, who decides
                future.set_exception(e)


class ChromiumRenderer:
    """One headless browser with one tab, driven from a thread of its own; render() many pages, close() at the end.

    Playwright's sync API keeps an event loop running in the thread that starts it; on a thread of its
    own that loop cannot clash with the caller's (an HTTP chat client in the same process runs its own).
    """

    def __init__(self, timeout_s: float = 30.0) -> None:
        try:
            from playwright.sync_api import Error
        except ImportError as e:
            raise BrowserMissing("rendering needs playwright: pip install 'polyvlm[documents]'") from e
        self._error = Error
        self._timeout_s = timeout_s
        self._script = (resources.files("polyvlm") / "render" / "ground_truth.js").read_text(encoding="utf-8")
        self._profile = tempfile.mkdtemp(prefix="polyvlm-chromium-")
        self._thread = _BrowserThread()
        try:
            self._thread.call(self._start)
        except Exception:
            self._thread.stop()
            shutil.rmtree(self._profile, ignore_errors=True)
            raise

    def _start(self) -> None:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        try:
            self._context = self._pw.chromium.launch_persistent_context(
                self._profile,
                executable_path=chromium_path(),
                args=CHROMIUM_ARGS,
                headless=True,
                device_scale_factor=1,
                offline=True,  # a page never loads anything: fonts are local, HTML is inline
            )
        except Exception:
            self._pw.stop()
            raise
        self._page = self._context.new_page()
        self._page.set_default_timeout(self._timeout_s * 1000)

    def render(self, html: str, width: int, height: int, measure: str = "") -> RenderedPage:
        """Lay out `html` in a width x height viewport; the screenshot and the measured ground truth.

        `measure`, a JS expression, is evaluated after ground_truth.js; its value is `truth["measured"]`
        (render_tables measures each cell's box this way).
        """
        return self._thread.call(self._render, html, width, height, measure)

    def _render(self, html: str, width: int, height: int, measure: str = "") -> RenderedPage:
        try:
            self._page.set_viewport_size({"width": width, "height": height})
            self._page.set_content(html, wait_until="load")
            self._page.evaluate("document.fonts.ready.then(() => true)")
            truth = self._page.evaluate(self._script)
            if measure:
                truth["measured"] = self._page.evaluate(measure)
            png = self._page.screenshot(type="png", full_page=False)
        except self._error as e:
            raise RenderFailed(str(e).splitlines()[0] if str(e) else type(e).__name__) from e
        return RenderedPage(png, width, height, truth)

    def close(self) -> None:
        """Stop the browser and its thread, and remove its profile."""
        try:
            self._thread.call(self._close)
        finally:
            self._thread.stop()
            shutil.rmtree(self._profile, ignore_errors=True)

    def _close(self) -> None:
        try:
            self._context.close()
        except self._error:
            pass  # already gone (crashed): stopping the driver below ends it
        finally:
            self._pw.stop()

    def __enter__(self) -> ChromiumRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_SHARED: ChromiumRenderer | None = None


def shared_renderer() -> ChromiumRenderer:
    """The process's one renderer (one browser per worker process, reused by every step), closed at exit."""
    global _SHARED
    if _SHARED is None:
        _SHARED = ChromiumRenderer()
        atexit.register(_close_shared)
    return _SHARED


def restart_shared_renderer() -> ChromiumRenderer:
    """A new browser in place of one that failed."""
    _close_shared()
    return shared_renderer()


def _close_shared() -> None:
    global _SHARED
    if _SHARED is not None:
        old, _SHARED = _SHARED, None
        old.close()
