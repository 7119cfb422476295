"""Font files by family name, through fontconfig (fc-match), for drawing text with Pillow."""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache


class FontMissing(RuntimeError):
    """fontconfig has no font of that family."""


@lru_cache(maxsize=32)
def font_file(family: str) -> tuple[str, int]:
    """(path, index in a collection) of the installed font of `family`; an error if only a fallback exists."""
    if not shutil.which("fc-match"):
        raise FontMissing("fc-match (fontconfig) is not installed")
    out = subprocess.run(
        ["fc-match", family, "-f", "%{family}\t%{file}\t%{index}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    names, path, index = (out.split("\t") + ["", "", "0"])[:3]
    if family.lower() not in names.lower():  # fc-match always answers: a substitute is not the font asked for
        raise FontMissing(
            f"font {family!r} is not installed (fontconfig offers {names!r}); see fonts-noto-cjk"
        )
    return path, int(index or 0)
