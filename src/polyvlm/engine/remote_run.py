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

    def publish(self) -> None:
        """Send every file that is new or changed since the last call; done markers go last."""
        changed = []
        for dirpath, _, names in os.walk(self.local):
            for name in names:
                if name.endswith((TMP_SUFFIX, ".part")):
                    continue  # being written
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, self.local).replace(os.sep, "/")
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
