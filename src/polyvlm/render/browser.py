"""A headless Chromium page (Playwright over the Debian browser) that renders HTML and measures its lines.

Chromium is the layout engine: it shapes Japanese text, breaks lines by the CSS rules (line-break:
strict keeps small kana and closing brackets off a line's start), sets vertical-rl columns and ruby.
One browser per worker process, reused for every page; a page is one `set_content`, one measurement
(ground_truth.js) and one screenshot at device scale 1, so CSS pixels are image pixels.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
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


class ChromiumRenderer:
    """One headless browser with one tab; render() many pages, close() at the end."""

    def __init__(self, timeout_s: float = 30.0) -> None:
        try:
            from playwright.sync_api import Error, sync_playwright
        except ImportError as e:
            raise BrowserMissing("rendering needs playwright: pip install 'polyvlm[documents]'") from e
        self._script = (resources.files("polyvlm") / "render" / "ground_truth.js").read_text(encoding="utf-8")
        self._profile = tempfile.mkdtemp(prefix="polyvlm-chromium-")
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
            shutil.rmtree(self._profile, ignore_errors=True)
            raise
        self._page = self._context.new_page()
        self._page.set_default_timeout(timeout_s * 1000)
        self._error = Error

    def render(self, html: str, width: int, height: int) -> RenderedPage:
        """Lay out `html` in a width x height viewport; the screenshot and the measured ground truth."""
        try:
            self._page.set_viewport_size({"width": width, "height": height})
            self._page.set_content(html, wait_until="load")
            self._page.evaluate("document.fonts.ready.then(() => true)")
            truth = self._page.evaluate(self._script)
            png = self._page.screenshot(type="png", full_page=False)
        except self._error as e:
            raise RenderFailed(str(e).splitlines()[0] if str(e) else type(e).__name__) from e
        return RenderedPage(png, width, height, truth)

    def close(self) -> None:
        """Stop the browser and remove its profile."""
        try:
            self._context.close()
        except self._error:
            pass  # already gone (crashed): stopping the driver below ends it
        finally:
            self._pw.stop()
            shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> ChromiumRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_SHARED: ChromiumRenderer | None = None


def shared_renderer() -> ChromiumRenderer:
    """The process's one renderer (Playwright's sync API allows one instance per thread), closed at exit."""
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
