"""PDF downloads: streamed to a temp file, checked, hashed, renamed into place.

Nothing half-downloaded or wrong ever sits at the final path: the body goes to a temp
file beside it, and only a complete PDF (`%PDF-` at the start, `%%EOF` near the end,
within the size cap and the time limit) is renamed over the target.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import httpx

from radio.artifacts import atomic_path, parse_arxiv_id
from radio.ingest.polite import FetchError, PermanentFetchError, PoliteClient

PDF_MAGIC = b"%PDF-"
EOF_MARK = b"%%EOF"
TAIL_BYTES = 2048  # %%EOF may be followed by a little whitespace or a trailer comment


class BadDownload(PermanentFetchError):
    """The server answered, but not with a whole PDF."""


@dataclass(frozen=True)
class DownloadedPdf:
    path: Path
    sha256: str
    bytes: int


def pdf_filename(arxiv_id: str, version: int) -> str:
    """`2501.10120v2.pdf`; old-style ids keep only the number (`0601001v1.pdf`)."""
    base, _ = parse_arxiv_id(arxiv_id)
    return f"{base.rsplit('/', 1)[-1]}v{version}.pdf"


async def download_pdf(polite: PoliteClient, url: str, target: Path, *, max_bytes: int,
                       timeout_s: float) -> DownloadedPdf:
    """Fetch `url` into `target` atomically; raise FetchError/BadDownload saying why not."""
    async with polite.stream(url) as response:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise BadDownload(f"PDF too large: {declared} bytes > cap {max_bytes} ({url})")
        kind = response.headers.get("content-type", "")
        try:
            async with asyncio.timeout(timeout_s):
                return await _save(response, target, url, kind, max_bytes)
        except TimeoutError:
            raise FetchError(f"download took longer than {timeout_s:g} s ({url})") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"download interrupted: {type(exc).__name__}: {exc} ({url})") \
                from exc


async def _save(response: httpx.Response, target: Path, url: str, kind: str,
                max_bytes: int) -> DownloadedPdf:
    digest = hashlib.sha256()
    size, head, tail = 0, b"", b""
    with atomic_path(target) as tmp:
        with tmp.open("wb") as out:
            async for chunk in response.aiter_bytes(1 << 16):
                size += len(chunk)
                if size > max_bytes:
                    raise BadDownload(f"PDF too large: more than {max_bytes} bytes ({url})")
                if len(head) < len(PDF_MAGIC) + 512:
                    head += chunk[:1024]
                    if len(head) >= len(PDF_MAGIC):
                        _check_magic(head, kind, url)
                digest.update(chunk)
                out.write(chunk)
                tail = (tail + chunk)[-TAIL_BYTES:]
        _check_whole(head, tail, size, kind, url)
    return DownloadedPdf(path=target, sha256=digest.hexdigest(), bytes=size)


def _check_magic(head: bytes, kind: str, url: str) -> None:
    if head.startswith(PDF_MAGIC):
        return
    text = head.lstrip()[:512]
    if text[:1] == b"<" or "html" in kind:
        title = re.search(rb"<title>(.*?)</title>", text, re.I | re.S)
        said = f": {title.group(1).decode('utf-8', 'replace').strip()[:120]}" if title else ""
        raise BadDownload(f"got an HTML page instead of a PDF{said} ({url})")
    raise BadDownload(f"not a PDF (starts with {head[:16]!r}, content-type {kind!r}) ({url})")


def _check_whole(head: bytes, tail: bytes, size: int, kind: str, url: str) -> None:
    if size == 0:
        raise BadDownload(f"empty download (0 bytes) ({url})")
    if size < len(PDF_MAGIC):
        raise BadDownload(f"not a PDF ({size} bytes: {head!r}) ({url})")
    _check_magic(head, kind, url)
    if EOF_MARK not in tail:
        raise BadDownload(f"truncated PDF: no %%EOF at the end of {size} bytes ({url})")
