"""LLM backends: llama.cpp in-process and the OpenAI-compatible HTTP client against the real
llama_cpp.server, both with the tiny SmolLM2 model (structure only: its words are nonsense)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from radio.backends.llm import (
    SHIPPED_MODELS,
    LLMError,
    chat_json,
    default_model_path,
    load_llm,
    tiny_model_path,
)
from radio.config import LLMSettings, SamplingSettings
from tests.support.ports import free_port, wait_listening

SCHEMA = {
    "type": "object",
    "properties": {"animal": {"type": "string", "minLength": 1, "maxLength": 40},
                   "legs": {"type": "integer", "minimum": 0, "maximum": 1000}},
    "required": ["animal", "legs"],
    "additionalProperties": False,
}
MESSAGES = [{"role": "user", "content": "Name an animal and its number of legs as JSON."}]
SAMPLING = SamplingSettings(temperature=0.2, max_tokens=60, seed=7)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real `python -m llama_cpp.server` with the tiny model on 127.0.0.1."""
    port = free_port()
    log = tmp_path_factory.mktemp("llm-server") / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(tiny_model_path()),
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "1024", "--n_threads", "1"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        wait_listening(port, timeout=120)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_openai_backend_against_llama_cpp_server(server: str) -> None:
    llm = load_llm(LLMSettings(backend="openai", base_url=server, model="smollm2",
                               timeout_s=120, retries=1))
    data = chat_json(llm, MESSAGES, sampling=SAMPLING, schema=SCHEMA)
    assert set(data) == {"animal", "legs"} and isinstance(data["legs"], int)
    text = llm.chat(MESSAGES, sampling=SAMPLING.model_copy(update={"max_tokens": 8}))
    assert isinstance(text, str) and text


class FlakyFront:
    """In front of the real llama_cpp.server: the first `failures` requests get HTTP 503,
    the rest are passed on; every request body is kept."""

    def __init__(self, upstream: str, failures: int) -> None:
        self.upstream, self.failures, self.bodies = upstream, failures, []
        front = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                front.bodies.append(json.loads(body))
                if len(front.bodies) <= front.failures:
                    status, reply = 503, b'{"error": {"message": "busy"}}'
                else:
                    answer = httpx.post(front.upstream + self.path, content=body, timeout=120,
                                        headers={"Content-Type": "application/json"})
                    status, reply = answer.status_code, answer.content
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/v1"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


def front_of(server: str, failures: int) -> FlakyFront:
    return FlakyFront(server.removesuffix("/v1"), failures)


def test_openai_backend_retries_with_the_client_and_asks_for_the_prompt_cache(
        server: str) -> None:
    front = front_of(server, failures=1)
    try:
        llm = load_llm(LLMSettings(backend="openai", base_url=front.url, model="smollm2",
                                   timeout_s=120, retries=1))
        text = llm.chat(MESSAGES, sampling=SAMPLING.model_copy(update={"max_tokens": 8}))
        llm.close()
    finally:
        front.close()
    assert isinstance(text, str) and text
    assert len(front.bodies) == 2  # a 503, then the client's retry got the answer
    asked = front.bodies[1]
    assert asked["cache_prompt"] is True and asked["min_p"] == SAMPLING.min_p
    assert asked["seed"] == SAMPLING.seed and asked["max_tokens"] == 8


def test_a_server_that_keeps_failing_is_an_llm_error(server: str) -> None:
    front = front_of(server, failures=10)
    try:
        llm = load_llm(LLMSettings(backend="openai", base_url=front.url, retries=2,
                                   timeout_s=30, cache_prompt=False))
        with pytest.raises(LLMError, match=r"failed after 3 tries: HTTP 503"):
            llm.chat(MESSAGES, sampling=SAMPLING)
    finally:
        front.close()
    assert len(front.bodies) == 3 and "cache_prompt" not in front.bodies[0]


def test_clear_error_when_the_server_is_down() -> None:
    port = free_port()  # nothing listens here
    llm = load_llm(LLMSettings(backend="openai", base_url=f"http://127.0.0.1:{port}/v1",
                               timeout_s=5, retries=1))
    started = time.monotonic()
    with pytest.raises(LLMError, match=rf"127\.0\.0\.1:{port}.*cannot connect"):
        llm.chat(MESSAGES, sampling=SAMPLING)
    assert time.monotonic() - started < 30


def test_in_process_llama_cpp_follows_the_schema() -> None:
    llm = load_llm(LLMSettings(model_path=tiny_model_path(), n_ctx=1024, n_threads=1))
    data = chat_json(llm, MESSAGES, sampling=SAMPLING, schema=SCHEMA)
    assert set(data) == {"animal", "legs"} and 0 <= data["legs"] <= 1000


LOAD_WHILE_LOGGING = """
import os, sys, threading, time
from radio.backends.llm import default_model_path, load_llm
from radio.config import LLMSettings

done = threading.Event()
def tick():  # another worker's log lines, written while the model loads
    n = 0
    while not done.is_set():
        os.write(2, f"tick {n}\\n".encode())
        n += 1
        time.sleep(0.002)
thread = threading.Thread(target=tick)
thread.start()
time.sleep(0.05)
load_llm(LLMSettings(model_path=default_model_path(), n_ctx=2048, n_threads=1))
done.set()
thread.join()
"""


@pytest.mark.slow
def test_loading_the_model_does_not_swallow_other_threads_output() -> None:
    """llama-cpp-python's verbose=False points fds 1 and 2 at /dev/null during the load;
    in a `radio up` that silenced every other worker for seconds."""
    done = subprocess.run([sys.executable, "-c", LOAD_WHILE_LOGGING], capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr[-2000:]
    ticks = [int(line.split()[1]) for line in done.stderr.splitlines()
             if line.startswith("tick ")]
    assert len(ticks) > 20 and ticks == list(range(len(ticks))), "lines went missing"
    assert "llama_model_loader" not in done.stderr  # llama.cpp's chatter stays out


def test_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LLMError, match="model file not found"):
        load_llm(LLMSettings(model_path=tmp_path / "nope.gguf"))


def test_bad_output_after_retries_is_an_llm_error() -> None:
    class Babbler:
        name = "babbler"

        def chat(self, messages, *, sampling, schema=None) -> str:
            return '{"animal": "cat"}'  # valid JSON, but misses a required field

    with pytest.raises(LLMError, match="no valid JSON after 2 attempts"):
        chat_json(Babbler(), MESSAGES, sampling=SAMPLING, schema=SCHEMA, attempts=2)


def test_default_model_is_assembled_and_verified() -> None:
    path = default_model_path()
    assert path.stat().st_size == SHIPPED_MODELS["qwen2.5-coder-1.5b"].size
    assert path.read_bytes()[:4] == b"GGUF"
