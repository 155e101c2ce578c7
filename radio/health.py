"""The worker process's own health: memory, open files, asyncio tasks, free disk.

Every worker's status carries `process_stats()` (a soak reads them for growth), and the
runtime asks `disk_refusal()` before new work: below `disk.reserve_mb` free under the
data root, new work waits (still pending) rather than half-writing artifacts.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import resource
import shutil
import threading
import time
from functools import cache
from pathlib import Path

from radio.config import DiskSettings


def process_stats() -> dict[str, float]:
    """Resident memory (MB), open file descriptors and asyncio tasks of this process."""
    stats: dict[str, float] = {"rss_mb": round(_rss_bytes() / 2**20, 1)}
    with contextlib.suppress(OSError):  # not Linux: left out
        stats["open_fds"] = len(os.listdir("/proc/self/fd"))
    with contextlib.suppress(RuntimeError):  # no running loop (a thread)
        stats["tasks"] = len(asyncio.all_tasks())
    return stats


TRIM_EVERY_S = 30.0
_trim = {"last": 0.0}
_trim_lock = threading.Lock()


def release_free_memory() -> bool:
    """Hand the C heap's free pages back to the system (glibc's malloc_trim), at most every
    TRIM_EVERY_S in a process: glibc keeps what the models' and parsers' big temporaries
    freed (300 MB of a 2.4 GB `radio up`, measured mid-run). True when it ran."""
    with _trim_lock:
        if time.monotonic() - _trim["last"] < TRIM_EVERY_S:
            return False
        _trim["last"] = time.monotonic()
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_THRESHOLD = 1 << 20


def return_large_blocks() -> bool:
    """Have glibc give each block over 1 MB back to the system as soon as it is freed.

    glibc maps such a block apart and unmaps it when freed, but raises the threshold to the
    size of each one freed (up to 32 MB); after a few, the voices', embedder's and LLM's
    large buffers come from the heaps of the threads that asked for them, where small
    blocks still in use pin them, and malloc_trim (above) comes too late for the peak.
    Measured with the LLM, the embedder and both ONNX voices at work in 8 threads, as in
    `radio up`: 2.7-2.8 GB resident against 1.9 GB with the threshold fixed at 1 MB (fixing
    it also stops the raising); the LLM's calls as fast, the voices and embedder ~15%
    slower (their buffers are mapped afresh). False where the C library is not glibc."""
    libc = _glibc()
    if libc is None:
        return False
    libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1)


@cache
def _glibc() -> ctypes.CDLL | None:
    """glibc, whose malloc_trim and mallopt tune the C heap; None where the C library is
    another (musl, macOS), which is then left as it is."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):  # the peak, where /proc is missing
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def free_mb(path: Path) -> float:
    """Free space for this user on the filesystem holding `path` (its nearest ancestor)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free / 2**20


def disk_refusal(root: Path, cfg: DiskSettings) -> str | None:
    """Why new work must wait (the disk under the data root is nearly full), or None."""
    free = free_mb(root)
    if free >= cfg.reserve_mb:
        return None
    return (f"disk nearly full: {free:.0f} MB free under {root}, below the reserve of "
            f"{cfg.reserve_mb:.0f} MB (disk.reserve_mb); new work waits, the air plays on")


async def llm_server_problem(base_url: str, timeout_s: float = 3.0) -> str | None:
    """Why the OpenAI-compatible server at `base_url` does not answer, or None when it does
    (GET /models: cheap, no generation; a model server that is down or hung both fail)."""
    import httpx  # only for a station that uses a server

    url = f"{base_url.rstrip('/')}/models"
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            reply = await client.get(url)
        reply.raise_for_status()
    except httpx.HTTPError as exc:
        return f"LLM server at {base_url} does not answer: {type(exc).__name__}: {exc}"[:300]
    return None
