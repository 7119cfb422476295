"""A run whose output directory is a URL: the engine works in a local staging copy; finished units are published.

The checkpoint (`_state/`: done markers, spills, aggregate states) and the error files go up with every
finished unit, done markers last, so the same command on any machine resumes from the URL. Outputs and
rejects leave the staging copy once published: the local disk holds only the units in flight.
"""

from __future__ import annotations

import hashlib
import os
import shutil

from polyvlm.core.errors import RecipeError
from polyvlm.core.remote_fs import download, filesystem, join_url, list_files, upload
from polyvlm.io.atomic import TMP_SUFFIX

MARKER = "_state/recipe.sha256"
KEPT_LOCALLY = ("_state/", "_errors/")  # what finishing or resuming a run reads back
# directories that gain a file per unit and keep it locally: after a unit, only its own files there are
# looked at (a walk of them after every unit would cost units² over a long run)
PER_UNIT_DIRS = ("_state/done", "_state/work", "_errors")
PER_UNIT_SUFFIXES = (".json", ".jsonl", ".state")


def staging_dir(url: str) -> str:
    """The local working copy of a remote run (POLYVLM_STAGING, else ~/.cache/polyvlm/staging)."""
    base = os.environ.get("POLYVLM_STAGING") or os.path.expanduser("~/.cache/polyvlm/staging")
    return os.path.join(base, hashlib.sha256(url.encode()).hexdigest()[:16])


class RemoteRun:
    """Mirror of a run directory at `url`; `local` is where the engine writes."""

    def __init__(self, url: str, fresh: bool) -> None:
        self.url = url
        self.local = staging_dir(url)
        self._published: dict[str, tuple[int, int]] = {}  # relative path -> (size, mtime_ns) sent
        try:
            remote = list_files(url)
        except OSError as e:
            raise RecipeError(f"cannot list the output {url}: {e}") from None
        if remote and MARKER not in remote:
            raise RecipeError(f"{url} holds files and is not a polyvlm run: choose another --output")
        if fresh and remote:
            fs, path = filesystem(url)
            fs.delete_dir_contents(path)
            remote = []
        if os.path.exists(self.local):
            shutil.rmtree(self.local)  # the URL is the truth: a staging copy may be of an older attempt
        for rel in remote:
            if rel.startswith(KEPT_LOCALLY):
                local = os.path.join(self.local, rel)
                download(join_url(url, rel), local)
                st = os.stat(local)
                self._published[rel] = (st.st_size, st.st_mtime_ns)

    def publish(self, unit: str | None = None) -> None:
        """Send every file that is new or changed since the last call; done markers go last.

        With `unit` (a unit's file stem, p<phase>-s<shard>), the per-unit directories are not walked: only
        that unit's files there are looked at."""
        changed = []
        for rel, full in self._candidates(unit):
            st = os.stat(full)
            if self._published.get(rel) != (st.st_size, st.st_mtime_ns):
                changed.append((rel.startswith("_state/done/"), rel, (st.st_size, st.st_mtime_ns)))
        fs, root = filesystem(self.url)
        for _, rel, sig in sorted(changed):  # False (data) before True (done markers)
            parent = os.path.dirname(f"{root}/{rel}")
            if parent:
                fs.create_dir(parent, recursive=True)
            upload(os.path.join(self.local, rel), join_url(self.url, rel))
            if rel.startswith(KEPT_LOCALLY) or rel.count("/") == 0:
                self._published[rel] = sig
            else:  # published outputs and rejects leave the local disk
                os.remove(os.path.join(self.local, rel))

    def _candidates(self, unit: str | None) -> list[tuple[str, str]]:
        """(relative path, local path) of the finished files that may need publishing."""
        out = []
        for dirpath, dirnames, names in os.walk(self.local):
            here = os.path.relpath(dirpath, self.local).replace(os.sep, "/")
            if unit is not None:
                dirnames[:] = [d for d in dirnames if f"{here}/{d}".removeprefix("./") not in PER_UNIT_DIRS]
            for name in names:
                if not name.endswith((TMP_SUFFIX, ".part")):  # being written otherwise
                    out.append((f"{here}/{name}".removeprefix("./"), os.path.join(dirpath, name)))
        if unit is not None:
            for d in PER_UNIT_DIRS:
                for suffix in PER_UNIT_SUFFIXES:
                    full = os.path.join(self.local, d, unit + suffix)
                    if os.path.exists(full):
                        out.append((f"{d}/{unit}{suffix}", full))
        return out
