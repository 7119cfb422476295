"""write_mmc4: interleaved documents as mmc4 JSONL, with their images in a WebDataset tar beside each part.

Each part is `NAME.jsonl` plus `NAME.tar` (same stem). A line is mmc4's document: `url`, `text_list`
(the sentences), `image_info` (per image: `image_name` — the image's member in the tar, `raw_url`,
`matched_text_index` — the sentence it goes before, `matched_sim`, `face_detections`: null, no face detector
runs) and `similarity_matrix` (images × sentences); mmc4's `could_have_url_duplicate` is left out (no URL
check is made here, so neither 0 nor 1 would be true); polyvlm's own fields are under `polyvlm` (id, language,
placement, provenance with the licence, images dropped). In the dom placement mode `matched_sim` and
`similarity_matrix` are null, and an image after the last sentence gets the last sentence's index (mmc4
places an image before its sentence and has no "after"; the OBELICS writer keeps that place exactly).
The tar holds `KEY.N.jpg` (or its format) per image held as bytes and `KEY.json` (the line), readable by
`webdataset`; an image without bytes gets `image_name: null`.
"""

from __future__ import annotations

import json
import os
import tarfile

from polyvlm.core.records import Document, Record
from polyvlm.core.step import Params, WriteStep, register
from polyvlm.io.atomic import TMP_SUFFIX, PartedWriter
from polyvlm.io.interleaved_order import mmc4_text_index
from polyvlm.io.webdataset_writer import EXTENSIONS, add_member


class WriteMmc4Params(Params):
    """Parameters of write_mmc4."""

    path: str = "mmc4"
    """directory inside the run's output directory"""


def mmc4_line(doc: Document, key: str) -> tuple[dict, list[tuple[str, bytes]]]:
    """A document's mmc4 JSON object and its (member name, image bytes) to put in the tar."""
    n = len(doc.texts)
    info, members = [], []
    for k, image in enumerate(doc.images):
        name = None
        if image.data is not None:
            name = f"{key}.{k}.{EXTENSIONS.get(image.format.lower(), 'bin')}"
            members.append((name, image.data))
        sim = image.scores.get("matched_sim")
        info.append({"image_name": name, "raw_url": image.url, "matched_text_index": mmc4_text_index(image, n),
                     "matched_sim": sim, "face_detections": None, "width": image.width,
                     "height": image.height, "phash": image.phash or None})  # fmt: skip
    placement = doc.metadata.get("placement", "")
    matrix = doc.metadata.get("similarity_matrix") if placement == "assigned" else None
    line = {
        "url": doc.url,
        "text_list": list(doc.texts),
        "image_info": info,
        "similarity_matrix": matrix,
        "polyvlm": {"id": doc.id, "language": doc.language, "placement": placement,
                    "provenance": doc.provenance.to_dict(), "image_drops": doc.metadata.get("image_drops", [])},
    }  # fmt: skip
    return line, members


class _Mmc4Shard(PartedWriter):
    suffix = ".jsonl"

    def __init__(self, directory: str, shard_name: str, shard_size: int) -> None:
        super().__init__(directory, shard_name, shard_size)
        self._tars: list[tuple[str, str]] = []

    def _open_part(self, tmp_path: str) -> None:
        self._lines = open(tmp_path, "w", encoding="utf-8")
        final = tmp_path.removesuffix(TMP_SUFFIX).removesuffix(self.suffix) + ".tar"
        self._tars.append((final + TMP_SUFFIX, final))
        self._tar = tarfile.open(final + TMP_SUFFIX, "w", format=tarfile.USTAR_FORMAT)

    def _write(self, record: Record) -> None:
        if not isinstance(record, Document):
            raise TypeError(f"write_mmc4 writes documents, got a {record.kind}")
        key = record.id.replace(".", "_").replace("/", "_")  # WebDataset splits keys at the first dot
        line, members = mmc4_line(record, key)
        text = json.dumps(line, ensure_ascii=False)
        for name, data in members:
            add_member(self._tar, name, data)
        add_member(self._tar, f"{key}.json", text.encode())
        self._lines.write(text + "\n")

    def _close_part(self) -> None:
        self._lines.close()
        self._tar.close()

    def commit(self) -> list[str]:
        names = super().commit()
        for tmp, final in self._tars:
            os.replace(tmp, final)
        return names + [os.path.basename(final) for _, final in self._tars]

    def abort(self) -> None:
        super().abort()
        for tmp, _ in self._tars:
            if os.path.exists(tmp):
                os.remove(tmp)


@register
class WriteMmc4(WriteStep):
    """Write documents as mmc4 JSONL (text_list, image_info, similarity_matrix) with images in WebDataset tars."""

    name = "write_mmc4"
    Params = WriteMmc4Params

    def open(self, out_dir: str, shard_name: str, shard_size: int) -> _Mmc4Shard:
        return _Mmc4Shard(os.path.join(out_dir, self.params.path), shard_name, shard_size)
