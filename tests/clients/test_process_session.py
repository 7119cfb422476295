"""One loop and session per process: kept across calls, made again after a close or in a forked child."""

import asyncio
import os

import aiohttp

from polyvlm.clients.process_session import ProcessSession, proxy_for


def opened() -> tuple[ProcessSession, list[aiohttp.ClientSession]]:
    sessions: list[aiohttp.ClientSession] = []

    def open_session() -> aiohttp.ClientSession:
        sessions.append(aiohttp.ClientSession())
        return sessions[-1]

    return ProcessSession(open_session), sessions


async def loop_and_session(process: ProcessSession) -> tuple[int, int]:
    return id(asyncio.get_running_loop()), id(process.session())


def test_calls_share_one_loop_and_session_until_closed():
    process, sessions = opened()
    first = process.run(lambda: loop_and_session(process))
    assert process.run(lambda: loop_and_session(process)) == first and len(sessions) == 1
    process.close()
    assert sessions[0].closed
    loop, _ = process.run(lambda: loop_and_session(process))
    assert loop == first[0] and len(sessions) == 2  # same loop, a new session
    process.close()


def test_a_forked_child_makes_its_own_loop_and_session_and_leaves_the_parents_open():
    process, sessions = opened()
    parent = process.run(lambda: loop_and_session(process))
    pid = os.fork()
    if pid == 0:
        try:
            child = process.run(lambda: loop_and_session(process))
            ok = child[0] != parent[0] and len(sessions) == 2 and not sessions[0].closed
            os._exit(0 if ok else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert process.run(lambda: loop_and_session(process)) == parent and not sessions[0].closed
    process.close()


def test_run_from_inside_a_running_loop():
    process, _ = opened()

    async def host() -> int:  # a notebook or an async host calls the synchronous client
        return process.run(lambda: asyncio.sleep(0, result=7))

    assert asyncio.run(host()) == 7
    process.close()


def test_proxy_from_the_environment(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    assert proxy_for("https://api.example.com/v1") == "http://proxy.example:3128"
    assert proxy_for("https://internal.example/v1") is None
