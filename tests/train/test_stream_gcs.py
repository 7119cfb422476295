"""A streaming source behind gs:// (a real GCS-compatible server, gcp-storage-emulator): listed, indexed
and read by range through pyarrow.fs as the data engine reads it, equal to the same shards on disk."""

from __future__ import annotations

import pytest
from stream_fixtures import write_pairs, write_text_jsonl

from polyvlm.core.remote_fs import upload
from polyvlm.train.config import SourceConfig
from polyvlm.train.data.stream import StreamSource, source_index


@pytest.fixture
def gcs(gcs_server, monkeypatch):
    """The GCS emulator (tests/conftest.py) with STORAGE_EMULATOR_HOST pointing at it."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server)


@pytest.mark.parametrize("fmt", ["pairs_webdataset", "text_jsonl"])
def test_shards_on_gcs_read_as_on_disk(tmp_path, monkeypatch, gcs, fmt):
    monkeypatch.setenv("POLYVLM_INDEX_CACHE", str(tmp_path / "cache"))
    if fmt == "pairs_webdataset":
        local = write_pairs(tmp_path / "d", shards=2, per_shard=4)
    else:
        local = write_text_jsonl(tmp_path / "d", shards=2, per_shard=6, bad_every=5)
    for path in sorted((tmp_path / "d").iterdir()):
        upload(str(path), f"gs://runs/data/{path.name}")
    pattern = local.rsplit("/", 1)[1]
    remote = source_index(SourceConfig(name="s", format=fmt, path=f"gs://runs/data/{pattern}"))
    disk = source_index(SourceConfig(name="s", format=fmt, path=local))
    assert len(remote.files) == 2 and all(f.startswith("gs://runs/data/") for f in remote.files)
    assert (len(remote), remote.read, remote.dropped) == (len(disk), disk.read, disk.dropped)
    a, b = StreamSource(remote), StreamSource(disk)
    for k in reversed(range(len(a))):
        assert (a[k].id, [s.text for s in a[k].segments]) == (b[k].id, [s.text for s in b[k].segments])
        assert [s.images for s in a[k].segments] == [s.images for s in b[k].segments]
