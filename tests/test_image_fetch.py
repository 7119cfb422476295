"""fetch_images against a real HTTP server on 127.0.0.1: SSRF policy, retries, caps, cache, WARC store."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import pickle
import threading
import time
from collections import Counter

import aiohttp
import pytest
from aiohttp import web
from PIL import Image

from polyvlm.core.errors import RecipeError
from polyvlm.core.records import ImageRef, Pair
from polyvlm.core.step import Drop
from polyvlm.engine.rows import OK, REJECTED, Row, apply_steps
from polyvlm.image import ssrf
from polyvlm.image.domain_cap import urls_over_cap
from polyvlm.image.fetch import FetchSettings, robots_noai
from polyvlm.image.fetch_cache import FetchCache, blob_path
from polyvlm.image.fetch_params import FetchImagesParams, fetch_settings
from polyvlm.image.fetch_step import FetchImages
from polyvlm.io.image_format import sniff_format
from warc_builder import response_record, write_warc

MAX_BYTES = 1_000_000


def image_bytes(fmt: str, seed: int, size: tuple[int, int] = (96, 64)) -> bytes:
    """A small real image (a gradient that differs per seed)."""
    img = Image.new("RGB", size)
    img.putdata([((x * 5 + seed * 17) % 256, (y * 7) % 256, (x + y + seed) % 256) for y in range(size[1])
                 for x in range(size[0])])  # fmt: skip
    out = io.BytesIO()
    img.save(out, format=fmt)
    return out.getvalue()


JPEG = {n: image_bytes("JPEG", n) for n in range(40)}
PNG = image_bytes("PNG", 99)


class ImageServer:
    """aiohttp.web in a thread; counts requests per path so tests can see what was (not) asked."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.arrivals: dict[str, list[float]] = {}  # time.monotonic() of each request, per path
        self.agents: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.port = 0

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def app(self) -> web.Application:
        @web.middleware
        async def count(request: web.Request, handler):
            self.hits[request.path] += 1
            self.arrivals.setdefault(request.path, []).append(time.monotonic())
            self.agents.append(request.headers.get("User-Agent", ""))
            return await handler(request)

        app = web.Application(middlewares=[count])
        r = app.router
        r.add_get(
            "/img/good{n:\\d+}.jpg", answer(lambda q: _image(JPEG[int(q.match_info["n"])], "image/jpeg"))
        )
        r.add_get("/img/good.png", answer(lambda q: _image(PNG, "image/png")))
        r.add_get(
            "/img/html.jpg",
            answer(lambda q: web.Response(body=b"<!DOCTYPE html><p>not here</p>", content_type="text/html")),
        )
        r.add_get("/img/truncated.jpg", answer(lambda q: _image(JPEG[1][: len(JPEG[1]) // 2], "image/jpeg")))
        r.add_get("/img/huge.jpg", answer(lambda q: _image(JPEG[2] + b"\0" * (MAX_BYTES + 10), "image/jpeg")))
        r.add_get("/img/huge-stream.jpg", self.huge_stream)
        r.add_get("/img/slow.jpg", self.slow)
        r.add_get("/img/missing.jpg", answer(lambda q: web.Response(status=404, text="no")))
        r.add_get("/img/noai.jpg", answer(lambda q: _image(JPEG[3], "image/jpeg", {"X-Robots-Tag": "noai"})))
        r.add_get(
            "/img/noimageai.jpg",
            answer(lambda q: _image(JPEG[4], "image/jpeg", {"X-Robots-Tag": "*: noimageai"})),
        )
        r.add_get(
            "/img/otherbot.jpg",
            answer(lambda q: _image(JPEG[5], "image/jpeg", {"X-Robots-Tag": "otherbot: noai"})),
        )
        r.add_get("/redir/private", answer(lambda q: _redirect("http://10.0.0.1/a.jpg")))
        r.add_get("/redir/metadata", answer(lambda q: _redirect("http://169.254.169.254/latest/meta-data/")))
        r.add_get("/redir/local", answer(lambda q: _redirect("/img/good6.jpg")))
        r.add_get("/redir/loop", answer(lambda q: _redirect("/redir/loop")))
        r.add_get("/redir/ftp", answer(lambda q: _redirect("ftp://127.0.0.1/a.jpg")))
        r.add_get("/flaky429/{key}", self.flaky_429)
        r.add_get("/flaky500/{key}", self.flaky_500)
        r.add_get("/reset/{key}", self.reset_once)
        return app

    async def huge_stream(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        resp.enable_chunked_encoding()  # no Content-Length: only counting while reading can stop it
        await resp.prepare(request)
        try:
            for _ in range(40):
                await resp.write(b"\xff" * 65536)
            await resp.write_eof()
        except (ConnectionError, RuntimeError):
            pass  # the client hung up, as it should
        return resp

    async def slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return _image(JPEG[7], "image/jpeg")

    async def flaky_429(self, request: web.Request) -> web.Response:
        if self.hits[request.path] == 1:
            return web.Response(status=429, headers={"Retry-After": "1"})
        return _image(JPEG[8], "image/jpeg")

    async def flaky_500(self, request: web.Request) -> web.Response:
        if self.hits[request.path] <= 2:
            return web.Response(status=500)
        return _image(JPEG[9], "image/jpeg")

    async def reset_once(self, request: web.Request) -> web.Response:
        if self.hits[request.path] == 1:
            request.transport.close()  # the connection drops before any answer
        return _image(JPEG[10], "image/jpeg")

    def start(self) -> None:
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            self.runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=0.1)
            self.loop.run_until_complete(self.runner.setup())
            site = web.TCPSite(self.runner, "127.0.0.1", 0)
            self.loop.run_until_complete(site.start())
            self.port = self.runner.addresses[0][1]
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        ready.wait(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def answer(make):
    """An async handler around a plain function of the request (aiohttp wants coroutines)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return make(request)

    return handler


def _image(body: bytes, ctype: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=body, content_type=ctype, headers=headers)


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})


@pytest.fixture(scope="module")
def server():
    s = ImageServer()
    s.start()
    yield s
    s.stop()


def pairs(urls: list[str]) -> list[Pair]:
    return [Pair(id=f"p{i}", text="写真", image=ImageRef(url=u)) for i, u in enumerate(urls)]


def step(tmp_path, **kw) -> FetchImages:
    base = dict(allow_addresses=["127.0.0.1"], cache_dir=str(tmp_path / "cache"), max_bytes=MAX_BYTES,
                timeout_s=1.0, retries=2, backoff_s=0.05)  # fmt: skip
    s = FetchImages(**{**base, **kw})
    s.check()
    s.ensure_setup()
    return s


def verdicts(results) -> list[str]:
    return [r.reason if isinstance(r, Drop) else "ok" for r in results]


# ---------------------------------------------------------------- the whole batch against the server


def test_one_batch_every_case(server, tmp_path):
    cases = {
        "/img/good0.jpg": "ok", "/img/good.png": "ok", "/img/truncated.jpg": "ok",  # decode judges it later
        "/img/html.jpg": "not_an_image", "/img/huge.jpg": "too_large", "/img/huge-stream.jpg": "too_large",
        "/img/slow.jpg": "timeout", "/img/missing.jpg": "http_404", "/img/noai.jpg": "robots_noai",
        "/img/noimageai.jpg": "robots_noai", "/img/otherbot.jpg": "ok", "/redir/private": "blocked_address",
        "/redir/metadata": "blocked_address", "/redir/local": "ok", "/redir/loop": "too_many_redirects",
        "/redir/ftp": "bad_scheme", "/flaky429/a": "ok", "/flaky500/a": "ok", "/reset/a": "ok",
    }  # fmt: skip
    s = step(tmp_path, timeout_s=0.5, max_redirects=3)
    before = server.hits.copy()
    records = pairs([server.url(p) for p in cases])
    results = s.apply_batch(records)
    assert dict(zip(cases, verdicts(results), strict=True)) == cases
    by_path = dict(zip(cases, results, strict=True))
    good = by_path["/img/good0.jpg"]
    assert good.image.data == JPEG[0] and good.image.format == "jpeg" and len(good.image.sha256) == 64
    assert good.metadata["image_source"] == "http"
    assert by_path["/img/good.png"].image.format == "png"
    assert by_path["/redir/local"].image.data == JPEG[6]
    assert "10.0.0.1" in by_path["/redir/private"].detail and "private" in by_path["/redir/private"].detail
    assert "169.254.169.254" in by_path["/redir/metadata"].detail
    assert "Content-Length" in by_path["/img/huge.jpg"].detail
    assert "gave up after 3 attempts" in by_path["/img/slow.jpg"].detail
    hits = server.hits - before
    assert hits["/flaky429/a"] == 2 and hits["/flaky500/a"] == 3 and hits["/reset/a"] == 2  # retried, then OK
    assert hits["/img/missing.jpg"] == 1  # a 404 is not retried
    assert hits["/img/slow.jpg"] == 3
    assert hits["/redir/loop"] == 4  # the first request and max_redirects more
    assert server.agents[-1].startswith("polyvlm/")


def test_retry_after_is_waited_for(server, tmp_path):
    s = step(tmp_path)
    (result,) = s.apply_batch(pairs([server.url("/flaky429/wait")]))
    first, second = server.arrivals["/flaky429/wait"]  # the server's clock: when each attempt came
    assert not isinstance(result, Drop) and second - first >= 0.9  # Retry-After: 1
    (capped,) = step(tmp_path, max_retry_after_s=0.5).apply_batch(pairs([server.url("/flaky429/cap")]))
    assert capped.reason == "http_429" and "exceeds max_retry_after_s" in capped.detail


def test_noai_can_be_disregarded_and_cache_remembers_it(server, tmp_path):
    (kept,) = step(tmp_path, respect_noai=False).apply_batch(pairs([server.url("/img/noai.jpg")]))
    assert kept.image.data == JPEG[3]
    before = server.hits.copy()
    (again,) = step(tmp_path).apply_batch(pairs([server.url("/img/noai.jpg")]))
    assert again.reason == "robots_noai" and server.hits == before  # from the cache, still honoured


# ---------------------------------------------------------------- SSRF


def test_loopback_refused_unless_allowed(server, tmp_path):
    s = step(tmp_path, allow_addresses=[], use_cache=False)
    urls = [server.url("/img/good11.jpg"), server.url("/img/good11.jpg", host="localhost"),
            f"http://[::ffff:127.0.0.1]:{server.port}/img/good11.jpg"]  # fmt: skip
    results = s.apply_batch(pairs(urls))
    assert verdicts(results) == ["blocked_address"] * 3
    assert "127.0.0.1 is loopback" in results[0].detail
    assert server.hits["/img/good11.jpg"] == 0
    # a listed host name allows what it resolves to; the listed address allows the literal
    (by_name,) = step(tmp_path, allow_addresses=["localhost"], use_cache=False).apply_batch(pairs(urls[1:2]))
    assert by_name.image.data == JPEG[11]


def test_disguised_loopback_refused(server, tmp_path):
    p = server.port
    hosts = ["2130706433", "127.1", "0x7f000001", "0177.0.0.1", "[::1]", "[fe80::1%25lo]"]
    urls = [f"http://{h}:{p}/a.jpg" for h in hosts]
    results = step(tmp_path, use_cache=False, allow_addresses=[]).apply_batch(pairs(urls))
    assert set(verdicts(results)) <= {"blocked_address", "bad_url"}
    assert server.hits["/a.jpg"] == 0


def test_socket_guard_checks_the_connected_address(server):
    async def go() -> BaseException | None:
        async with aiohttp.ClientSession(connector=ssrf.guarded_connector(ssrf.AddressPolicy())) as session:
            try:
                await session.get(server.url("/img/good12.jpg"))  # a literal IP: no resolver involved
            except aiohttp.ClientConnectorError as e:
                return e.os_error
        return None

    err = asyncio.run(go())
    assert isinstance(err, ssrf.BlockedAddress) and err.address == "127.0.0.1"
    assert server.hits["/img/good12.jpg"] == 0


def test_resolver_keeps_only_public_addresses():
    class Fixed(aiohttp.abc.AbstractResolver):
        def __init__(self, hosts):
            self.hosts = hosts

        async def resolve(self, host, port=0, family=0):
            return [{"hostname": host, "host": h, "port": port, "family": 2, "proto": 0, "flags": 0}
                    for h in self.hosts]  # fmt: skip

        async def close(self):
            pass

    mixed = ssrf.GuardedResolver(ssrf.AddressPolicy(), Fixed(["93.184.216.34", "127.0.0.1", "10.1.2.3"]))
    assert [r["host"] for r in asyncio.run(mixed.resolve("rebind.example", 80))] == ["93.184.216.34"]
    with pytest.raises(ssrf.BlockedAddress, match="169.254.169.254 is link-local"):
        asyncio.run(
            ssrf.GuardedResolver(ssrf.AddressPolicy(), Fixed(["169.254.169.254"])).resolve("meta.example", 80)
        )
    allowed = ssrf.GuardedResolver(ssrf.AddressPolicy(["10.0.0.0/8"]), Fixed(["10.1.2.3"]))
    assert [r["host"] for r in asyncio.run(allowed.resolve("intranet.example", 80))] == ["10.1.2.3"]


ADDRESS_CLASSES = {
    "127.0.0.1": "loopback", "10.0.0.1": "private", "172.16.5.4": "private", "192.168.1.1": "private",
    "100.64.0.1": "cgnat", "169.254.169.254": "link-local", "fd00::1": "private", "fe80::1": "link-local",
    "::1": "loopback", "0.0.0.0": "unspecified", "224.0.0.1": "multicast", "::ffff:10.0.0.1": "private",
    "8.8.8.8": None, "2606:4700::1111": None,
}  # fmt: skip


@pytest.mark.parametrize(("address", "kind"), ADDRESS_CLASSES.items())
def test_address_classes(address, kind):
    import ipaddress

    assert ssrf.address_class(ipaddress.ip_address(address)) == kind


def test_non_http_schemes_are_refused(tmp_path):
    s = step(tmp_path, use_cache=False)
    results = s.apply_batch(pairs(["file:///etc/passwd", "ftp://example.org/a.jpg", "gopher://x/1", ""]))
    assert verdicts(results) == ["bad_scheme", "bad_scheme", "bad_scheme", "no_image_url"]


# ---------------------------------------------------------------- cache


def test_second_run_asks_nothing(server, tmp_path):
    paths = ["/img/good13.jpg", "/img/good14.jpg", "/img/missing.jpg", "/redir/private", "/redir/local",
             "/flaky500/cache"]  # fmt: skip
    urls = [server.url(p) for p in paths]
    first = step(tmp_path).apply_batch(pairs(urls))
    assert verdicts(first) == ["ok", "ok", "http_404", "blocked_address", "ok", "ok"]
    before = server.hits.copy()
    second = step(tmp_path).apply_batch(pairs(urls))  # a new step: as a re-run in another process
    assert server.hits == before  # zero HTTP requests
    assert verdicts(second) == verdicts(first)
    assert [r.metadata["image_source"] for r in second if not isinstance(r, Drop)] == ["cache"] * 4
    assert all(
        a.image.sha256 == b.image.sha256
        for a, b in zip(first, second, strict=True)
        if not isinstance(a, Drop)
    )
    sha = first[0].image.sha256
    with open(blob_path(str(tmp_path / "cache"), sha), "rb") as f:
        assert f.read() == JPEG[13]
    # a failure remembered under other settings is asked again
    step(tmp_path, allow_addresses=["127.0.0.1", "10.0.0.0/8"], timeout_s=0.3, retries=0).apply_batch(
        pairs([server.url("/redir/private")])
    )
    assert server.hits["/redir/private"] == before["/redir/private"] + 1


def test_cache_shared_between_processes(tmp_path):
    import multiprocessing as mp

    root = str(tmp_path / "c")
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_cache_writer, args=(root, k)) for k in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    entries = FetchCache(root).lookup([f"http://x/{i}" for i in range(30)])
    assert len(entries) == 30 and {e.size for e in entries.values()} == {len(JPEG[0])}


def _cache_writer(root: str, k: int) -> None:
    from polyvlm.image.fetch_cache import CacheWrite

    cache = FetchCache(root)
    for i in range(30):  # all three write every URL and the same blob: the last write wins, no error
        cache.record([CacheWrite(f"http://x/{i}", JPEG[0])])


def test_pickled_step_sets_up_again(server, tmp_path):
    s = step(tmp_path)
    clone = pickle.loads(pickle.dumps(s))
    assert clone.batch_size == s.batch_size
    rows = [Row(0, i, p) for i, p in enumerate(pairs([server.url("/img/good15.jpg"), "ftp://x/y.jpg"]))]
    out = list(apply_steps(iter(rows), [clone]))
    assert [r.status for r in out] == [OK, REJECTED] and out[0].record.image.data == JPEG[15]


def test_records_with_bytes_pass_untouched(tmp_path):
    s = step(tmp_path, use_cache=False)
    held = Pair(id="x", image=ImageRef(url="http://10.0.0.1/a.jpg", data=b"already"))
    (result,) = s.apply_batch([held])
    assert result is held and held.image.data == b"already" and "image_source" not in held.metadata


# ---------------------------------------------------------------- down-sampling


def test_per_domain_downsampling(server, tmp_path):
    urls = [server.url(f"/img/good{n}.jpg") for n in range(16, 26)] + [
        server.url("/img/good26.jpg", "localhost")
    ]
    s = step(tmp_path, max_per_domain=3, seed=7, allow_addresses=["127.0.0.1", "localhost"])
    results = s.apply_batch(pairs(urls))
    kept = [u for u, r in zip(urls, results, strict=True) if not isinstance(r, Drop)]
    assert len(kept) == 4 and urls[-1] in kept  # 3 of 127.0.0.1's ten, and localhost's one
    assert sum(r.reason == "domain_batch_cap" for r in results if isinstance(r, Drop)) == 7
    assert urls_over_cap(urls, 3, seed=7) == set(urls) - set(kept)  # the same choice every time
    others = [urls_over_cap(urls, 3, seed=k) for k in range(8)]
    assert len({frozenset(d) for d in others}) > 1  # the seed matters
    assert urls_over_cap(urls, 0) == set()


# ---------------------------------------------------------------- WARC store


def test_warc_store_serves_without_http(server, tmp_path):
    site = "https://img.example.invalid"  # never resolves: whatever is served came from the WARC
    chunked_header = "Transfer-Encoding: chunked\r\n"
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(JPEG[27]), JPEG[27])
    records = [
        response_record(f"{site}/a.jpg", JPEG[26], "image/jpeg"),
        response_record(f"{site}/b.png", PNG, "application/octet-stream"),  # by extension
        response_record(f"{site}/c.jpg", chunked, "image/jpeg", extra_headers=chunked_header),
        response_record(f"{site}/page.html", b"<html></html>", "text/html"),
        response_record(f"{site}/gone.jpg", b"not found", "image/jpeg", status=404),
    ]  # fmt: skip
    write_warc(str(tmp_path / "crawl-1.warc.gz"), records[:3])
    write_warc(str(tmp_path / "crawl-2.warc"), records[3:], compress=False)
    urls = [f"{site}/{name}" for name in ("a.jpg", "b.png", "c.jpg")]
    urls += [server.url("/img/good28.jpg"), f"{site}/gone.jpg"]
    warcs = [str(tmp_path / "crawl-*.warc*")]
    s = step(tmp_path, warc_images=warcs, retries=0, timeout_s=0.5)
    before = server.hits.copy()
    results = s.apply_batch(pairs(urls))
    assert [r.image.data for r in results[:4]] == [JPEG[26], PNG, JPEG[27], JPEG[28]]
    assert [r.metadata["image_source"] for r in results[:4]] == ["warc", "warc", "warc", "http"]
    assert results[4].reason in {"dns_error", "timeout"}  # a 404 in the WARC is not an image to serve
    assert sum((server.hits - before).values()) == 1
    # a WARC file that grew is indexed again (the index is kept in the cache directory between runs)
    with open(tmp_path / "crawl-2.warc", "ab") as f:
        f.write(response_record(f"{site}/late.jpg", JPEG[29], "image/jpeg"))
    (late,) = step(tmp_path, warc_images=warcs).apply_batch(pairs([f"{site}/late.jpg"]))
    assert late.image.data == JPEG[29] and late.metadata["image_source"] == "warc"


def test_check_stops_bad_params_before_work(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(RecipeError, match="not a writable directory"):
        FetchImages(cache_dir=str(tmp_path / "file" / "sub")).check()
    with pytest.raises(RecipeError, match="neither a CIDR"):
        FetchImages(allow_addresses=["10.0.0.0/33"], use_cache=False).check()
    with pytest.raises(RecipeError, match="matches no file"):
        FetchImages(warc_images=[str(tmp_path / "*.warc.gz")], use_cache=False).check()


def test_fetch_settings_take_every_field_from_the_parameter_of_that_name():
    changed = {"user_agent": "probe/1 (x@example.org)", "max_bytes": 7, "timeout_s": 2.5,
               "connect_timeout_s": 1.5, "retries": 9, "backoff_s": 0.25, "max_retry_after_s": 4.0,
               "max_redirects": 1, "concurrency": 3, "per_domain_concurrency": 2, "respect_noai": False,
               "allow_addresses": ["10.0.0.0/8"]}  # fmt: skip
    assert {f.name for f in dataclasses.fields(FetchSettings)} == set(changed)  # a new field is tested here
    settings = fetch_settings(FetchImagesParams(**changed))
    assert settings == FetchSettings(**{**changed, "allow_addresses": ("10.0.0.0/8",)})


# ---------------------------------------------------------------- header and byte rules


def test_header_rules():
    # Retry-After itself: one parser for fetching and model calls (test_chat_clients tests it)
    assert robots_noai(["noai"], "polyvlm") and robots_noai(["noindex, noimageai"], "polyvlm")
    assert robots_noai(["polyvlm: noai"], "polyvlm") and not robots_noai(["otherbot: noai"], "polyvlm")
    assert not robots_noai(["max-snippet: 20, noindex"], "polyvlm")
    assert sniff_format(JPEG[0]) == "jpeg" and sniff_format(PNG) == "png"
    assert sniff_format(image_bytes("GIF", 1)) == "gif" and sniff_format(image_bytes("WEBP", 1)) == "webp"
    assert sniff_format(b"<!doctype html>") == "" and sniff_format(b"") == ""


# ---------------------------------------------------------------- through the local engine


def test_recipe_on_two_forked_workers(server, tmp_path, write_recipe):
    import json

    from polyvlm.core.recipe import load_recipe
    from polyvlm.engine.run import run_recipe

    for k in range(2):  # two input files: two shards, run by two forked workers
        paths = [f"/img/good{30 + 3 * k + j}.jpg" for j in range(3)] + ["/img/missing.jpg"]
        lines = [json.dumps(p.to_dict()) for p in pairs([server.url(x) for x in paths])]
        (tmp_path / f"pairs{k}.jsonl").write_text("\n".join(lines) + "\n")
    recipe = write_recipe(f"""
        name: fetch
        inputs: ["{tmp_path}/pairs*.jsonl"]
        steps:
          - fetch_images: {{allow_addresses: ["127.0.0.1"], cache_dir: "{tmp_path}/cache", retries: 0}}
        outputs:
          - write_jsonl: {{path: pairs}}
    """)
    stats = run_recipe(load_recipe(recipe), str(tmp_path / "out"), workers=2, progress=False)
    errors = (tmp_path / "out" / "errors.jsonl").read_text()
    assert stats["totals"]["kept"] == 6 and stats["totals"]["rejected"] == 2, errors
    assert stats["steps"][0]["dropped"] == {"http_404": 2}
