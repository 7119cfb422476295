"""A polite, SSRF-safe async image fetcher (aiohttp): bounded concurrency, retries, byte caps, noai.

Every failure comes back as a FetchResult with a machine-readable reason and a human detail; nothing
raises out of `Fetcher.fetch_all`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import aiohttp
from yarl import URL

from polyvlm import __version__
from polyvlm.clients.limits import retry_after_s
from polyvlm.clients.retry_policy import RetryPolicy, retry_outcomes
from polyvlm.clients.sync_runner import run_coroutine
from polyvlm.image.ssrf import SCHEMES, AddressPolicy, BlockedAddress, blocked_in, guarded_connector

DEFAULT_USER_AGENT = (
    f"polyvlm/{__version__} (image-text research data; set user_agent to your project and contact)"
)
REDIRECTS = (301, 302, 303, 307, 308)
# outcomes that a later run would meet again: remembered in the cache so that nothing is asked twice
PERMANENT = {"http_404", "http_410", "http_451", "blocked_address", "bad_scheme", "bad_url",
             "too_large", "too_many_redirects", "robots_noai"}  # fmt: skip
# X-Robots-Tag directives that take a value ("max-snippet: 20"), so "name:" before them is not a bot name
_VALUED = {"max-snippet", "max-image-preview", "max-video-preview", "unavailable_after"}
_NOAI = {"noai", "noimageai"}


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """How the fetcher behaves (the fetch_images parameters that concern HTTP)."""

    user_agent: str = DEFAULT_USER_AGENT
    max_bytes: int = 20_000_000
    timeout_s: float = 30.0
    connect_timeout_s: float = 10.0
    retries: int = 3
    backoff_s: float = 1.0
    max_retry_after_s: float = 60.0
    max_redirects: int = 5
    concurrency: int = 64
    per_domain_concurrency: int = 8
    respect_noai: bool = True
    allow_addresses: tuple[str, ...] = ()


@dataclass(slots=True)
class FetchResult:
    """One URL's outcome: its bytes, or a reason (`http_404`, `timeout`, ...) and a detail for people."""

    url: str
    data: bytes | None = None
    reason: str = ""
    detail: str = ""
    attempts: int = 0
    noai: bool = False  # served with X-Robots-Tag noai (kept only when respect_noai is off)

    @property
    def permanent(self) -> bool:
        """True when fetching again would give the same failure (so it is worth remembering)."""
        return self.reason in PERMANENT


@dataclass(frozen=True, slots=True)
class _Retry:
    reason: str
    detail: str
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class _Redirect:
    location: str


def domain_of(url: str) -> str:
    """The lower-cased host of a URL ('' when it has none)."""
    try:
        return (URL(url).host or "").lower()
    except (ValueError, TypeError):
        return ""


def robots_noai(values: Iterable[str], agent: str) -> bool:
    """True when X-Robots-Tag values say noai or noimageai to every bot or to `agent` (e.g. 'polyvlm')."""
    for value in values:
        head, colon, tail = value.partition(":")
        scope, rest = None, value
        name = head.strip().lower()
        if colon and name and "," not in name and name not in _VALUED:
            scope, rest = name, tail  # "otherbot: noai" speaks to otherbot only
        if scope not in (None, "*", agent.lower()):
            continue
        if {t.strip().lower() for t in rest.split(",")} & _NOAI:
            return True
    return False


def agent_name(user_agent: str) -> str:
    """The product token of a User-Agent ('polyvlm' of 'polyvlm/0.1 (+https://...)')."""
    return (user_agent.split() or [""])[0].split("/")[0].lower()


class Fetcher:
    """Fetches a set of URLs with one aiohttp session per call (so nothing outlives a loop or a fork)."""

    def __init__(self, settings: FetchSettings | None = None) -> None:
        self.settings = settings or FetchSettings()
        self.policy = AddressPolicy(self.settings.allow_addresses)

    def fetch_all(
        self, urls: Iterable[str], keep: Callable[[bytes], object] | None = None
    ) -> dict[str, FetchResult]:
        """Fetch each distinct URL once; returns url -> result (synchronous: runs its own event loop).

        `keep`, if given, is called in a worker thread with each body as it arrives (to store it while
        the other requests are still in flight); its errors are ignored here.
        """
        urls = list(dict.fromkeys(urls))
        if not urls:
            return {}
        return run_coroutine(lambda: self.fetch_many(urls, keep))

    async def fetch_many(
        self, urls: list[str], keep: Callable[[bytes], object] | None = None
    ) -> dict[str, FetchResult]:
        """The async form of fetch_all, inside a running loop."""
        s = self.settings
        connector = guarded_connector(self.policy, limit=s.concurrency, limit_per_host=0, ttl_dns_cache=300)
        timeout = aiohttp.ClientTimeout(total=s.timeout_s, sock_connect=s.connect_timeout_s)
        headers = {"User-Agent": s.user_agent, "Accept": "image/avif,image/webp,image/*;q=0.9,*/*;q=0.5"}
        async with aiohttp.ClientSession(
            connector=connector,
            timeout=timeout,
            headers=headers,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,  # no proxy from the environment: the policy must see the real peer
        ) as session:
            with ThreadPoolExecutor(2, thread_name_prefix="polyvlm-keep") as disk:  # not the DNS threads
                run = _Run(session, self.policy, s, keep, disk)
                results = await asyncio.gather(*(run.fetch(u) for u in urls))
        return {r.url: r for r in results}


class _Run:
    """The state of one fetch_many call: session, semaphores."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        policy: AddressPolicy,
        settings: FetchSettings,
        keep: Callable[[bytes], object] | None = None,
        disk: ThreadPoolExecutor | None = None,
    ) -> None:
        self.session, self.policy, self.s = session, policy, settings
        self.keep, self.disk = keep, disk
        self.agent = agent_name(settings.user_agent)
        self.slots = asyncio.Semaphore(settings.concurrency)
        self.domain_slots: dict[str, asyncio.Semaphore] = {}

    def _domain_slot(self, host: str) -> asyncio.Semaphore:
        if host not in self.domain_slots:
            self.domain_slots[host] = asyncio.Semaphore(self.s.per_domain_concurrency)
        return self.domain_slots[host]

    async def fetch(self, url: str) -> FetchResult:
        """Follow redirects by hand (each hop re-checked) and retry what may pass later; never raises."""
        try:
            result = await self._fetch(url)
        except Exception as e:  # noqa: BLE001 — a bug or an odd server must cost one image, not the batch
            return FetchResult(url, reason="fetch_error", detail=f"{type(e).__name__}: {e}"[:500])
        if self.keep is not None and result.data is not None:
            try:  # disk work in a thread overlaps with the requests still in flight
                await asyncio.get_running_loop().run_in_executor(self.disk, self.keep, result.data)
            except Exception:  # noqa: BLE001 — the caller stores the result again and sees the error
                pass
        return result

    async def _fetch(self, url: str) -> FetchResult:
        current, attempts, via = url, 0, ""
        for _hop in range(self.s.max_redirects + 1):
            try:
                target = URL(current)
            except (ValueError, TypeError) as e:
                return _failed(url, "bad_url", f"{current!r}: {e}{via}", attempts)
            if target.scheme not in SCHEMES or not target.host:
                why = f"scheme {target.scheme!r} is not http(s)" if target.host else "no host"
                return _failed(url, "bad_scheme", f"{current}: {why}{via}", attempts)
            try:
                self.policy.check_url_host(target.host)
            except BlockedAddress as b:
                return _blocked(url, b, via, attempts)
            outcome, n = await self._with_retries(target)
            attempts += n
            if isinstance(outcome, _Redirect):
                via = f" (redirected from {current})"
                current = outcome.location
                continue
            if isinstance(outcome, BlockedAddress):
                return _blocked(url, outcome, via, attempts)
            outcome.url, outcome.attempts = url, attempts
            if via and outcome.reason:
                outcome.detail += via
            return outcome
        return _failed(url, "too_many_redirects", f"more than {self.s.max_redirects} redirects", attempts)

    async def _with_retries(self, target: URL) -> tuple[FetchResult | _Redirect | BlockedAddress, int]:
        s = self.s
        policy = RetryPolicy(s.retries, s.backoff_s, max_wait_s=s.max_retry_after_s)
        tried = await retry_outcomes(
            lambda _retries: self._attempt(target),
            policy,
            retry_kind=lambda out: "retry" if isinstance(out, _Retry) else "",
            retry_after=lambda out: out.retry_after,
        )
        out, attempts = tried.outcome, tried.attempts
        if not isinstance(out, _Retry):
            return out, attempts
        if attempts > s.retries:
            tries = f"{attempts} attempt" + ("s" if attempts > 1 else "")
            return _failed(target, out.reason, f"{out.detail}; gave up after {tries}"), attempts
        # the policy stopped early: the server asked for a longer pause than we wait
        detail = f"{out.detail}; Retry-After {out.retry_after:.0f} s exceeds max_retry_after_s"
        return _failed(target, out.reason, detail), attempts

    async def _attempt(self, target: URL) -> FetchResult | _Redirect | _Retry | BlockedAddress:
        host = (target.host or "").lower()
        async with self.slots, self._domain_slot(host):
            try:
                async with self.session.get(target, allow_redirects=False) as resp:
                    return await self._answer(resp, target)
            except TimeoutError:
                return _Retry("timeout", f"{target}: no complete answer within {self.s.timeout_s} s")
            except aiohttp.ClientConnectorDNSError as e:
                blocked = blocked_in(e)
                return blocked or _failed(target, "dns_error", f"{host}: {e.os_error}")
            except aiohttp.ClientConnectorError as e:
                blocked = blocked_in(e)
                return blocked or _Retry("connection_error", f"{target}: {e.os_error or e}")
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientOSError) as e:
                return _Retry("connection_reset", f"{target}: {type(e).__name__}: {e}")
            except aiohttp.InvalidURL as e:
                return _failed(target, "bad_url", str(e))
            except aiohttp.ClientResponseError as e:  # a malformed status line or header
                return _failed(target, "bad_response", f"{target}: {e.message}")

    async def _answer(self, resp: aiohttp.ClientResponse, target: URL) -> FetchResult | _Redirect | _Retry:
        status, s = resp.status, self.s
        if status in REDIRECTS:
            location = resp.headers.get("Location")
            if not location:
                return _failed(target, f"http_{status}", f"{target}: redirect without Location")
            try:
                return _Redirect(str(resp.url.join(URL(location))))
            except (ValueError, TypeError) as e:
                return _failed(target, "bad_url", f"Location {location!r}: {e}")
        if status == 429 or 500 <= status <= 599:
            retry_after = retry_after_s(resp.headers)
            return _Retry(
                f"http_{status}", f"{target} answered {status} {resp.reason or ''}".strip(), retry_after
            )
        if status != 200:
            return _failed(target, f"http_{status}", f"{target} answered {status} {resp.reason}")
        noai = robots_noai(resp.headers.getall("X-Robots-Tag", []), self.agent)
        if noai and s.respect_noai:
            tags = "; ".join(resp.headers.getall("X-Robots-Tag", []))
            return _failed(target, "robots_noai", f"{target}: X-Robots-Tag {tags}")
        length = resp.content_length
        if length is not None and length > s.max_bytes:
            return _failed(target, "too_large", f"Content-Length {length} > max_bytes {s.max_bytes}")
        chunks, total = [], 0
        async for chunk in resp.content.iter_any():
            total += len(chunk)
            if total > s.max_bytes:  # leaving the block closes the connection: the rest is never read
                return _failed(target, "too_large", f"more than max_bytes {s.max_bytes} read")
            chunks.append(chunk)
        return FetchResult(str(target), data=b"".join(chunks), noai=noai)


def _failed(target: URL | str, reason: str, detail: str, attempts: int = 0) -> FetchResult:
    return FetchResult(str(target), reason=reason, detail=detail, attempts=attempts)


def _blocked(url: str, b: BlockedAddress, via: str, attempts: int) -> FetchResult:
    return _failed(url, "blocked_address", f"{b.address} is {b.why}: {b.host}{via}", attempts)
