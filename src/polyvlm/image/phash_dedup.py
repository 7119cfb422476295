"""phash_dedup: keep the first of pairs with the same image (perceptual hash) and the same text."""

from __future__ import annotations

from polyvlm.core.records import Pair, Record
from polyvlm.core.step import Aggregate, Drop, Params, register
from polyvlm.text.frequency_cap import text_key

State = dict[int, list[tuple[int, tuple[int, ...]]]]  # text key -> [(phash, position)]


class PhashDedupParams(Params):
    """Parameters of phash_dedup."""

    max_distance: int = 0
    """Hamming distance between 64-bit pHashes that still counts as the same image (0: equal hashes)"""
    normalize_text: bool = True
    """compare texts after NFKC and whitespace collapsing"""


@register
class PhashDedup(Aggregate):
    """Drop a pair when an earlier pair has the same text and an image within max_distance (pHash)."""

    name = "phash_dedup"
    Params = PhashDedupParams

    def _keys(self, record: Record) -> tuple[int, int]:
        if not isinstance(record, Pair) or not record.image.phash:
            raise ValueError("phash_dedup needs pairs with image.phash (run decode_image first)")
        return text_key(record.text, self.params.normalize_text), int(record.image.phash, 16)

    def init_state(self) -> State:
        return {}

    def observe(self, state: State, record: Record, position: tuple[int, ...]) -> None:
        text, phash = self._keys(record)
        state.setdefault(text, []).append((phash, position))

    def merge(self, a: State, b: State) -> State:
        if len(a) < len(b):
            a, b = b, a
        for text, items in b.items():
            a.setdefault(text, []).extend(items)
        return a

    def apply(self, state: State, record: Record, position: tuple[int, ...]) -> Record | Drop:
        text, phash = self._keys(record)
        # groups are small: one text's pairs (text_frequency_cap bounds them), so a scan is enough
        near = [pos for h, pos in state.get(text, []) if (h ^ phash).bit_count() <= self.params.max_distance]
        first = min(near, default=position)
        return record if first == position else Drop("duplicate_pair", f"first at {list(first)}")
