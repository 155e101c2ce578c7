"""The data root: stable paths by id, atomic writes, checksums.

Layout (design.md): papers/<arxiv_id>/, shows/<show_id>/, episodes/, feed/, index/.
Ids are validated before they become paths, so untrusted text never picks a path.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from radio.messages import Artifact

# New style: 2501.10120 (4+4 or 4+5 digits); old style: astro-ph/0601001, math.GT/0309136.
_NEW_ID = re.compile(r"^(?P<id>\d{4}\.\d{4,5})(?:v(?P<v>\d+))?$")
_OLD_ID = re.compile(r"^(?P<id>[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<v>\d+))?$")
_SHOW_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,80}$")


class InvalidId(ValueError):
    pass


def parse_arxiv_id(raw: str) -> tuple[str, int | None]:
    """Split `2501.10120v2` into ("2501.10120", 2); raise InvalidId on anything else.

    Accepts abs/pdf URLs and an `arXiv:` prefix, as they appear in feeds.
    """
    text = raw.strip()
    text = re.sub(r"^(?:https?://[^/]+/(?:abs|pdf)/|arxiv:|oai:arXiv\.org:)", "", text, flags=re.I)
    text = text.removesuffix(".pdf")
    for pattern in (_NEW_ID, _OLD_ID):
        match = pattern.match(text)
        if match:
            version = match.group("v")
            return match.group("id"), int(version) if version else None
    raise InvalidId(f"not an arXiv id: {raw[:80]!r}")


def safe_show_id(show_id: str) -> str:
    if not _SHOW_ID.match(show_id):
        raise InvalidId(f"not a show id: {show_id[:80]!r}")
    return show_id


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class DataRoot:
    """Every artifact of the station lives under one root."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def paper_dir(self, arxiv_id: str) -> Path:
        base, _ = parse_arxiv_id(arxiv_id)
        # Old-style ids carry a slash: keep it as one directory level per archive.
        return self._inside(self.root / "papers" / base)

    def show_dir(self, show_id: str) -> Path:
        return self._inside(self.root / "shows" / safe_show_id(show_id))

    @property
    def episodes_dir(self) -> Path:
        return self.root / "episodes"

    @property
    def feed_dir(self) -> Path:
        return self.root / "feed"

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    def _inside(self, path: Path) -> Path:
        resolved = path.resolve()
        if not resolved.is_relative_to(self.root):
            raise InvalidId(f"path escapes the data root: {path}")
        return resolved

    def resolve(self, artifact: Artifact | str) -> Path:
        """Absolute path of an artifact named on the bus (checked to stay inside the root)."""
        relative = artifact.path if isinstance(artifact, Artifact) else artifact
        return self._inside(self.root / relative)

    def artifact(self, path: Path) -> Artifact:
        """Describe a file under the root for a message."""
        path = self._inside(path)
        return Artifact(path=path.relative_to(self.root).as_posix(), sha256=sha256_file(path),
                        bytes=path.stat().st_size)

    def verify(self, artifact: Artifact) -> Path:
        """The artifact's path, after checking that its content is what the message says."""
        path = self.resolve(artifact)
        if not path.is_file():
            raise FileNotFoundError(f"artifact missing: {artifact.path}")
        if sha256_file(path) != artifact.sha256:
            raise ValueError(f"artifact checksum mismatch: {artifact.path}")
        return path


def temp_tag() -> str:
    """Names this process in its temp files, so a restart can tell a dead writer's
    leftovers from a live one's (radio/recovery.py)."""
    return f"p{os.getpid()}h{zlib.crc32(socket.gethostname().encode()) & 0xffff:04x}"


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temp path beside `target`; on success rename it over `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{temp_tag()}.",
                               suffix=".tmp")
    os.close(fd)
    # mkstemp makes 0600 files; artifacts are served (nginx, OBS) by other users too.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_atomic(target: Path, data: bytes | str) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    return target
