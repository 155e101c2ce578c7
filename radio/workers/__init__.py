"""The station's workers, by name. Imported lazily: each pulls in its own heavy deps."""

from __future__ import annotations

import importlib

from radio.worker import Worker

WORKERS: dict[str, str] = {
    "fetcher": "FetcherWorker",
    "pdf": "PdfWorker",
    "summarizer": "SummarizerWorker",
    "embeddings": "EmbeddingsWorker",
    "writer": "WriterWorker",
    "scheduler": "SchedulerWorker",
    "tts": "TtsWorker",
    "recorder": "RecorderWorker",
    "playout": "PlayoutWorker",
    "obs": "ObsWorker",
}


def load(name: str) -> type[Worker]:
    """The worker class called `name`, or one given as `package.module:Class`.

    The import path form runs a worker that lives outside the station (a plugin, a test).
    """
    if ":" in name:
        module_name, _, class_name = name.partition(":")
        return getattr(importlib.import_module(module_name), class_name)
    if name not in WORKERS:
        raise KeyError(f"unknown worker {name!r}; known: {', '.join(WORKERS)}")
    module = importlib.import_module(f"radio.workers.{name}")
    return getattr(module, WORKERS[name])
