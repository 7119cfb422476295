"""Image stage benchmark: decode + size/aspect filter + pHash, polyvlm vs a naive Pillow/ImageHash baseline.

One process, one core: images per CPU-second (and per wall-second) of
- polyvlm: `DecodeImage().apply(pair)` then `ImageSize().apply(pair)` on a Pair holding the bytes
  (safe decode, the JPEG draft-mode fast path, sha256 of the kept bytes, pHash into image.phash);
- naive: `Image.open` -> `convert("RGB")` -> `imagehash.phash`, plus the same size/aspect check,
on the real photos under ../shared/data/images (JPEG/PNG, corrupt files left out; falls back to
examples/data/photos), the set repeated to at least --min-decodes decodes per side. The two sides run
in alternating passes so that load from other processes on the machine falls on both.
Hash agreement: the fraction of images whose polyvlm hash is within Hamming distance 2 of the naive
hash, and of the naive hash taken after ImageOps.exif_transpose (polyvlm hashes the image as displayed).
--variants N adds N random variants of each photo (crop, rescale, JPEG quality, baseline or progressive,
every fifth a PNG) to the agreement check, and --min-side overrides phash.REDUCED_MIN_SIDE to compare
thresholds (docs/images.md).

Run: .venv/bin/python benchmarks/image_stage.py [--min-decodes 300] [--variants 14] [--min-side 96] [--verbose]
"""

from __future__ import annotations

import argparse
import io
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import imagehash
import numpy as np
import PIL
from PIL import Image, ImageOps

import polyvlm.image.decode
import polyvlm.image.phash
from polyvlm.core.records import ImageRef, Pair
from polyvlm.core.step import Drop
from polyvlm.image.decode_step import DecodeImage
from polyvlm.image.phash import hamming
from polyvlm.image.size_filter import ImageSize

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data" / "images"
FALLBACK = REPO / "examples" / "data" / "photos"
SUFFIXES = {".jpg", ".jpeg", ".png"}
MIN_SIDE, MIN_ASPECT, MAX_ASPECT = 150, 0.5, 2.0  # the image_size defaults, used by both sides


@dataclass
class Side:
    """What one side did: per unique image its hash (or drop reason) and keep decision, and its times."""

    name: str
    hashes: dict[str, str] = field(default_factory=dict)
    kept: dict[str, bool] = field(default_factory=dict)
    cpu_per_image: dict[str, float] = field(default_factory=dict)  # summed over the passes
    decodes: int = 0
    cpu_s: float = 0.0
    wall_s: float = 0.0


def photos() -> tuple[Path, list[Path]]:
    """The benchmark's photos: every JPEG/PNG of the shared set but the corrupt ones."""
    root = SHARED if SHARED.is_dir() else FALLBACK
    paths = sorted(p for p in root.rglob("*") if p.suffix.lower() in SUFFIXES and "corrupt" not in p.name)
    return root, paths


def size_ok(width: int, height: int) -> bool:
    """The image_size rule with its defaults."""
    return min(width, height) >= MIN_SIDE and MIN_ASPECT <= width / height <= MAX_ASPECT


def run_polyvlm(name: str, data: bytes, decode: DecodeImage, size: ImageSize) -> tuple[str, bool]:
    """polyvlm's decode_image + image_size on one pair: (phash or drop reason, kept)."""
    out = decode.apply(Pair(id=name, image=ImageRef(data=data)))
    if isinstance(out, Drop):
        return f"drop:{out.reason}", False
    assert isinstance(out, Pair)
    kept = not isinstance(size.apply(out), Drop)
    return out.image.phash, kept


def run_naive(data: bytes) -> tuple[str, bool]:
    """The naive baseline: full decode to RGB, imagehash.phash, the same size rule."""
    im = Image.open(io.BytesIO(data)).convert("RGB")
    return str(imagehash.phash(im)), size_ok(*im.size)


def timed_pass(side: Side, items: list[tuple[str, bytes]], fn) -> None:
    """One pass over the set, adding to the side's CPU and wall time."""
    c0, w0 = time.process_time(), time.perf_counter()
    for name, data in items:
        t0 = time.process_time()
        side.hashes[name], side.kept[name] = fn(name, data)
        side.cpu_per_image[name] = side.cpu_per_image.get(name, 0.0) + time.process_time() - t0
    side.cpu_s += time.process_time() - c0
    side.wall_s += time.perf_counter() - w0
    side.decodes += len(items)


def kind(data: bytes, out: Pair | Drop) -> str:
    """Which path an image takes in polyvlm, for the breakdown."""
    if isinstance(out, Drop):
        return "dropped"
    im = Image.open(io.BytesIO(data))
    if im.format != "JPEG" or im.mode not in ("RGB", "L"):
        return "full decode (not a JPEG)"
    if im.getexif().get(0x0112, 1) != 1:
        return "JPEG with EXIF rotation"
    if im.info.get("progressive"):
        return "JPEG progressive"
    return "JPEG baseline >= 1 Mpx" if im.width * im.height >= 1_000_000 else "JPEG baseline < 1 Mpx"


def oriented_reference(data: bytes) -> str:
    """imagehash.phash of the image as displayed (EXIF orientation applied): what polyvlm hashes."""
    return str(imagehash.phash(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")))


def variants(items: list[tuple[str, bytes]], per_image: int, seed: int = 1) -> dict[str, bytes]:
    """Random crops, rescales, JPEG qualities, baseline or progressive, and PNG copies of each photo."""
    rng = np.random.default_rng(seed)
    out: dict[str, bytes] = {}
    for name, data in items:
        im = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
        for i in range(per_image):
            w, h = im.size
            crop = im.crop((int(w * rng.uniform(0, 0.15)), int(h * rng.uniform(0, 0.15)), w, h))
            scale = rng.uniform(0.25, 1.0)
            small = crop.resize((max(16, int(crop.width * scale)), max(16, int(crop.height * scale))))
            buf = io.BytesIO()
            if i % 5 == 4:
                small.save(buf, "PNG")
            else:
                small.save(
                    buf, "JPEG", quality=int(rng.integers(50, 96)), progressive=bool(rng.integers(0, 2))
                )
            out[f"{name}#{i}"] = buf.getvalue()
    return out


def distance_histogram(images: dict[str, bytes], decode: DecodeImage) -> np.ndarray:
    """Counts of Hamming distances between polyvlm's hash and imagehash's on the upright image."""
    dists = []
    for name, data in images.items():
        out = decode.apply(Pair(id=name, image=ImageRef(data=data)))
        assert isinstance(out, Pair), (name, out)
        dists.append(hamming(out.image.phash, oriented_reference(data)))
    return np.bincount(dists)


def agreement(ours: dict[str, str], ref: dict[str, str]) -> tuple[float, list[str]]:
    """Fraction of images hashed within Hamming 2 of the reference, and the names of the others."""
    off = [n for n in ref if ours[n].startswith("drop:") or hamming(ours[n], ref[n]) > 2]
    return 1 - len(off) / len(ref), off


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-decodes", type=int, default=300, help="decodes per side at least (default 300)")
    ap.add_argument("--variants", type=int, default=0, help="random variants per photo for agreement")
    ap.add_argument("--min-side", type=int, default=0, help="override phash.REDUCED_MIN_SIDE")
    ap.add_argument("--verbose", action="store_true", help="print a line per image")
    args = ap.parse_args()
    if args.min_side:
        polyvlm.image.phash.REDUCED_MIN_SIDE = polyvlm.image.decode.REDUCED_MIN_SIDE = args.min_side

    root, paths = photos()
    items = [(str(p.relative_to(root)), p.read_bytes()) for p in paths]
    reps = max(1, -(-args.min_decodes // len(items)))
    decode, size = DecodeImage(), ImageSize()
    ours, naive = Side("polyvlm"), Side("naive")

    def fn_ours(name: str, data: bytes) -> tuple[str, bool]:
        return run_polyvlm(name, data, decode, size)

    def fn_naive(name: str, data: bytes) -> tuple[str, bool]:
        return run_naive(data)

    # warm-up (imports, caches) outside the timing, then alternating timed passes
    timed_pass(Side("warm"), items, fn_ours)
    timed_pass(Side("warm"), items, fn_naive)
    for _ in range(reps):
        timed_pass(naive, items, fn_naive)
        timed_pass(ours, items, fn_ours)

    mb = sum(len(d) for _, d in items) / 1e6
    machine = platform.processor() or platform.machine()
    print(f"image stage: decode + size/aspect filter + pHash, one process ({machine})")
    print(f"Pillow {PIL.__version__}, ImageHash {imagehash.__version__}, Python {platform.python_version()}")
    print(f"photos: {len(items)} files ({mb:.1f} MB) from {root}, repeated {reps}x")
    print()
    print(f"{'side':<9}{'decodes':>9}{'CPU s':>9}{'img/CPU-s':>11}{'wall s':>9}{'img/s':>9}")
    for side in (naive, ours):
        print(
            f"{side.name:<9}{side.decodes:>9}{side.cpu_s:>9.2f}{side.decodes / side.cpu_s:>11.1f}"
            f"{side.wall_s:>9.2f}{side.decodes / side.wall_s:>9.1f}"
        )
    ratio_cpu = (ours.decodes / ours.cpu_s) / (naive.decodes / naive.cpu_s)
    ratio_wall = (ours.decodes / ours.wall_s) / (naive.decodes / naive.wall_s)
    print(f"speed-up polyvlm / naive: {ratio_cpu:.2f}x per CPU-second, {ratio_wall:.2f}x wall (goal >= 3x)")
    print()
    groups: dict[str, list[str]] = {}
    for name, data in items:
        out = decode.apply(Pair(id=name, image=ImageRef(data=data)))
        assert isinstance(out, Pair | Drop)
        groups.setdefault(kind(data, out), []).append(name)
    print(f"{'by path':<32}{'images':>7}{'naive ms':>10}{'polyvlm ms':>12}{'speed-up':>10}{'share':>8}")
    for label, names in sorted(groups.items()):
        t_naive = sum(naive.cpu_per_image[n] for n in names) / reps / len(names) * 1000
        t_ours = sum(ours.cpu_per_image[n] for n in names) / reps / len(names) * 1000
        share = sum(ours.cpu_per_image[n] for n in names) / sum(ours.cpu_per_image.values())
        print(
            f"{label:<32}{len(names):>7}{t_naive:>10.2f}{t_ours:>12.2f}{t_naive / t_ours:>9.2f}x{share:>8.0%}"
        )
    print("  (ms: CPU per image; share: of polyvlm's CPU time)")
    print()

    oriented = {name: oriented_reference(data) for name, data in items}
    agree_naive, off_naive = agreement(ours.hashes, naive.hashes)
    agree_oriented, off_oriented = agreement(ours.hashes, oriented)
    print(f"hash agreement (Hamming <= 2) with the naive hash: {agree_naive:.1%} (goal >= 99%)", end="")
    print(f"; not agreeing: {', '.join(off_naive)}" if off_naive else "")
    print(
        f"hash agreement (Hamming <= 2) with the naive hash of the upright image: {agree_oriented:.1%}",
        end="",
    )
    print(f"; not agreeing: {', '.join(off_oriented)}" if off_oriented else "")
    if off_naive and not set(off_naive) - {n for n, d in items if oriented[n] != naive.hashes[n]}:
        print(
            "  (the images off the naive hash have an EXIF rotation: the naive baseline hashes them sideways)"
        )
    same_keep = sum(ours.kept[n] == naive.kept[n] for n, _ in items)
    print(f"size/aspect decisions equal on {same_keep}/{len(items)} images")
    if args.variants:
        hist = distance_histogram(variants(items, args.variants), decode)
        near = hist[:3].sum() / hist.sum()
        print(
            f"{hist.sum()} variants (min side {polyvlm.image.phash.REDUCED_MIN_SIDE}): Hamming distance to "
            f"imagehash: {dict(enumerate(hist.tolist()))}; within 2: {near:.1%}"
        )
    if args.verbose:
        print()
        for name, _ in items:
            d = "-" if ours.hashes[name].startswith("drop:") else hamming(ours.hashes[name], oriented[name])
            print(f"  {name:<48} {ours.hashes[name]:<18} naive {naive.hashes[name]}  dist(oriented) {d}")


if __name__ == "__main__":
    main()
