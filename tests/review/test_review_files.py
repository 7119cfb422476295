"""A project's files are the owner's alone: folder 0700, database (and its WAL and SHM), session key, images
and reports 0600, whatever the umask; the session key is not in the database; an older project is tightened."""

import os
import stat
import subprocess
import sys

import pytest
import requests
from review_http import try_login
from review_projects import make_project, samples
from review_server import ReviewServer

from polyvlm.review.store import connect, get_meta, set_meta
from polyvlm.review.web_app import build_app


@pytest.fixture
def loose_umask():
    """The common 022 umask, under which files are world-readable unless made otherwise."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path) -> int | None:
    return stat.S_IMODE(os.stat(path).st_mode) if os.path.exists(path) else None


def test_every_file_of_a_project_is_private_and_the_key_is_not_in_the_database(tmp_path, loose_umask):
    path, init = make_project(tmp_path, samples(2, photo="llava__waterview.jpg"), ["ann1"], 1, 0.0)
    with ReviewServer(path) as server:
        try_login(requests.Session(), server.url, "ann1", init.tokens["ann1"])  # writes: WAL and SHM exist
        db = os.path.join(path, "review.sqlite")
        files = [db, db + "-wal", db + "-shm", os.path.join(path, "session.key")]
        files += [os.path.join(path, "images", n) for n in os.listdir(os.path.join(path, "images"))]
        res = subprocess.run([sys.executable, "-m", "polyvlm.cli", "review", "agreement", path],
                             capture_output=True, text=True, timeout=120)  # fmt: skip
        assert res.returncode == 0, res.stderr
        files += [os.path.join(path, "agreement.json"), os.path.join(path, "agreement.html")]
        assert {f: _mode(f) for f in files} == {f: 0o600 for f in files}
        assert _mode(path) == _mode(os.path.join(path, "images")) == 0o700
    with pytest.raises(KeyError):
        get_meta(connect(path), "session_secret")
    key = open(os.path.join(path, "session.key"), "rb").read()
    assert len(key) == 32 and key not in open(db, "rb").read()


def test_a_project_made_before_is_tightened_and_its_secret_leaves_the_database(tmp_path, loose_umask):
    path, _ = make_project(tmp_path, samples(1), ["ann1"], 1, 0.0)
    db = os.path.join(path, "review.sqlite")
    conn = connect(path)
    set_meta(conn, "session_secret", "0" * 64)  # where such a project kept it
    conn.close()
    os.remove(os.path.join(path, "session.key"))
    os.chmod(db, 0o644)
    os.chmod(path, 0o755)
    build_app(path)
    assert _mode(db) == 0o600 and _mode(path) == 0o700
    assert _mode(os.path.join(path, "session.key")) == 0o600
    with pytest.raises(KeyError):
        get_meta(connect(path), "session_secret")
