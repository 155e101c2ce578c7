"""The default embedder is all-MiniLM-L6-v2 on onnxruntime: the vectors of the
sentence-transformers backend, without torch in the station's process."""

from __future__ import annotations

import csv
import json
import logging
import subprocess
import sys

import numpy as np
import pytest

from radio.backends.embedder import load_embedder
from radio.config import EmbedderSettings
from tests.support.settings import CORPUS


def corpus_titles() -> list[str]:
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        return [row["title"] for row in csv.DictReader(handle, delimiter="\t") if row["title"]]


@pytest.mark.slow
def test_onnx_vectors_are_the_sentence_transformers_vectors() -> None:
    texts = [*corpus_titles()[:24], "a " * 400]  # a text past the 256-token limit too
    assert len(texts) > 10
    onnx = load_embedder(EmbedderSettings(backend="onnx", batch_size=8))
    sbert = load_embedder(EmbedderSettings(backend="sentence-transformers", batch_size=8))
    ours, theirs = onnx.embed(texts), sbert.embed(texts)
    assert onnx.name == sbert.name and ours.shape == theirs.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert float(np.min(np.sum(ours * theirs, axis=1))) > 0.9999


def test_the_station_as_configured_never_loads_torch() -> None:
    """torch is ~550 MB resident: with the default settings no worker's library, voice or
    embedder brings it into `radio up` (Kokoro's G2P would: only with a Kokoro voice)."""
    probe = ("import json, sys, psutil\n"
             "from radio import workers\n"
             "from radio.backends.embedder import load_embedder\n"
             "from radio.backends.tts import load_voice\n"
             "from radio.config import Settings\n"
             "from radio.worker import preload\n"
             "s = Settings()\n"
             "preload([workers.load(n) for n in workers.WORKERS], s)\n"
             "voices = [load_voice(h.voice, s) for h in s.writer.hosts]\n"
             "v = load_embedder(s.embedder).embed(['graph neural networks', 'speech'])\n"
             "print(json.dumps({'torch': 'torch' in sys.modules, 'shape': list(v.shape)}))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=300, check=True)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"torch": False, "shape": [2, 384]}


def test_the_onnx_embedder_says_where_it_runs(caplog: pytest.LogCaptureFixture) -> None:
    import onnxruntime

    from radio.backends import device

    device._said.cache_clear()  # said once per process: forget what other tests heard
    caplog.set_level(logging.INFO, "radio.backends")
    model = load_embedder(EmbedderSettings(backend="onnx", device="cuda", batch_size=4))
    expected = "cuda" if "CUDAExecutionProvider" in onnxruntime.get_available_providers() \
        else "cpu"
    assert model.device == expected  # type: ignore[attr-defined]
    said = [r.getMessage() for r in caplog.records
            if r.getMessage().startswith("the embedder (onnxruntime)")]
    assert len(said) == 1 and ("GPU" if expected == "cuda" else "CPU") in said[0]


def test_texts_run_by_length_within_a_token_budget() -> None:
    from radio.backends.embedder.onnx import BATCH_TOKENS, CHARS_PER_TOKEN, runs

    titles = [f"A title number {n}" for n in range(40)]
    chunks = ["word " * 200, "word " * 180]  # a paper's chunks: about 250 tokens each
    texts = [chunks[0], *titles, chunks[1]]
    found = runs(texts, 32)
    assert sorted(i for run in found for i in run) == list(range(len(texts)))  # each once
    assert [len(texts[i]) for run in found for i in run] == sorted(map(len, texts))
    assert all(len(run) <= 32 for run in found)
    assert [0] in found and [41] in found  # a chunk runs alone
    for run in found:
        longest = max(len(texts[i]) for i in run) // CHARS_PER_TOKEN + 2
        assert len(run) == 1 or len(run) * longest <= BATCH_TOKENS
