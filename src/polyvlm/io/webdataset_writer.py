"""write_webdataset: records as WebDataset tar shards (key.json + key.txt, plus images held as bytes).

A Pair becomes key.jpg (or .png ...) + key.json + key.txt: the layout image-text training loaders expect.
"""

from __future__ import annotations

import io
import json
import os
import tarfile

from polyvlm.core.records import Document, Pair, Record
from polyvlm.core.step import Params, WriteStep, register
from polyvlm.io.atomic import PartedWriter

EXTENSIONS = {"jpeg": "jpg", "jpg": "jpg", "png": "png", "webp": "webp", "gif": "gif"}


class WriteWebdatasetParams(Params):
    """Parameters of write_webdataset."""

    path: str = "webdataset"
    """directory inside the run's output directory"""


def add_member(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    """Add a file to a tar with fixed metadata (same records, same archive bytes)."""
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    info.mtime = 0  # deterministic archives: same records, same bytes
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(payload))


class _TarShard(PartedWriter):
    suffix = ".tar"

    def _open_part(self, tmp_path: str) -> None:
        self._tar = tarfile.open(tmp_path, "w", format=tarfile.USTAR_FORMAT)

    def _write(self, record: Record) -> None:
        key = record.id.replace(".", "_")  # WebDataset splits keys at the first dot
        meta = record.to_dict()
        meta.pop("raw", None)
        images = [meta["image"]] if isinstance(record, Pair) else meta["images"]
        for n, image in enumerate(images):
            image.pop("data", None)
            held = record.images[n]
            if held.data is not None:
                ext = EXTENSIONS.get(held.format.lower(), "bin")
                add_member(self._tar, f"{key}.{n}.{ext}" if n else f"{key}.{ext}", held.data)
        add_member(self._tar, f"{key}.json", json.dumps(meta, ensure_ascii=False).encode())
        if isinstance(record, Document | Pair):
            add_member(self._tar, f"{key}.txt", record.text.encode())

    def _close_part(self) -> None:
        self._tar.close()


@register
class WriteWebdataset(WriteStep):
    """Write WebDataset tar shards readable by the `webdataset` library."""

    name = "write_webdataset"
    Params = WriteWebdatasetParams

    def open(self, out_dir: str, shard_name: str, shard_size: int) -> _TarShard:
        return _TarShard(os.path.join(out_dir, self.params.path), shard_name, shard_size)
