"""Directories that servers dropping to `nobody` can reach (icecast, nginx's worker)."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path


def reachable_dir(wanted: Path, name: str) -> Path:
    """`wanted` if `nobody` can reach it, else a fresh 0755 dir in the system temp dir
    (pytest's tmp_path is private to root). Remove the latter with `remove_if_made`."""
    wanted.mkdir(parents=True, exist_ok=True)
    chain = [wanted.resolve(), *wanted.resolve().parents]
    if os.geteuid() != 0 or all(p.stat().st_mode & stat.S_IXOTH for p in chain):
        return wanted
    made = Path(tempfile.mkdtemp(prefix=f"radio-{name}-"))
    made.chmod(0o755)
    return made


def remove_if_made(path: Path, wanted: Path) -> None:
    if path != wanted and path.name.startswith("radio-"):
        shutil.rmtree(path, ignore_errors=True)
