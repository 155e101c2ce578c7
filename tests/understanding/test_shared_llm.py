"""One model per process: the summarizer and the writer share one loaded LLM, and a waiting
on-air (writer) call goes before a waiting background (summarizer) call."""

from __future__ import annotations

import threading
import time

from radio.backends.llm import (
    BACKGROUND,
    ON_AIR,
    SharedLLM,
    acquire_llm,
    release_llm,
    tiny_model_path,
)
from radio.backends.llm import shared as llm_module
from radio.config import LLMSettings, SamplingSettings, Settings
from tests.support.harness import running_worker

SHORT = SamplingSettings(temperature=0.0, max_tokens=4, seed=1)


def tiny() -> LLMSettings:
    return LLMSettings(model_path=tiny_model_path(), n_ctx=512, n_threads=1)


async def test_the_writer_and_summarizer_in_one_process_share_one_model(
        settings: Settings) -> None:
    settings = settings.model_copy(update={"llm": tiny()})
    async with running_worker("summarizer", settings) as summarizer, \
            running_worker("writer", settings) as writer:
        assert isinstance(writer.llm, SharedLLM) and isinstance(summarizer.llm, SharedLLM)
        assert writer.llm.llm is summarizer.llm.llm  # one loaded model, not two
        assert (writer.llm.priority, summarizer.llm.priority) == (ON_AIR, BACKGROUND)
        [loaded] = llm_module._loaded.values()
        assert loaded.users == 2
        assert summarizer.summarizer.llm is summarizer.llm  # the summaries use the view
    assert llm_module._loaded == {}  # the last worker to stop let it go


def test_a_worker_alone_loads_and_frees_its_own() -> None:
    view = acquire_llm(tiny(), BACKGROUND)
    try:
        assert isinstance(view, SharedLLM) and len(llm_module._loaded) == 1
        assert view.chat([{"role": "user", "content": "Hi"}], sampling=SHORT) is not None
    finally:
        release_llm(view)
    assert llm_module._loaded == {}
    again = acquire_llm(tiny(), BACKGROUND)  # a fresh load after the last release
    try:
        assert again.llm is not view.llm
    finally:
        release_llm(again)


def test_a_waiting_writer_call_goes_before_a_waiting_summarizer_call() -> None:
    summarizer, writer = acquire_llm(tiny(), BACKGROUND), acquire_llm(tiny(), ON_AIR)
    assert isinstance(summarizer, SharedLLM) and isinstance(writer, SharedLLM)
    model = summarizer.llm
    real_chat = model.chat
    started: list[str] = []
    running, finish = threading.Event(), threading.Event()

    def chat(messages, **kwargs):
        tag = messages[-1]["content"]
        started.append(tag)
        if tag == "first":  # the summarizer's call in progress holds the model
            running.set()
            finish.wait(60)
        return real_chat(messages, **kwargs)

    model.chat = chat  # type: ignore[method-assign]
    try:
        def call(view: SharedLLM, tag: str) -> threading.Thread:
            thread = threading.Thread(target=view.chat, args=([{"role": "user",
                                                                "content": tag}],),
                                      kwargs={"sampling": SHORT})
            thread.start()
            return thread

        threads = [call(summarizer, "first")]
        assert running.wait(30)
        threads.append(call(summarizer, "summary"))  # waits, first in line
        deadline = time.monotonic() + 30
        while summarizer.lock.waiting() != [BACKGROUND] and time.monotonic() < deadline:
            time.sleep(0.01)
        threads.append(call(writer, "dialogue"))  # waits, arrived later
        while summarizer.lock.waiting() != [ON_AIR, BACKGROUND] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert summarizer.lock.waiting() == [ON_AIR, BACKGROUND]
        finish.set()
        for thread in threads:
            thread.join(60)
        assert started == ["first", "dialogue", "summary"]
    finally:
        release_llm(summarizer)
        release_llm(writer)
    assert llm_module._loaded == {}


def test_a_show_being_written_keeps_the_summarizer_out_between_its_calls() -> None:
    """`keep_warm`: the model's cache keeps the writer's conversation while a show is written."""
    lock = llm_module.PriorityLock()
    order: list[str] = []

    def background() -> None:
        with lock.hold(BACKGROUND):
            order.append("summary")

    with lock.reserve(ON_AIR):
        with lock.hold(ON_AIR):
            order.append("line 1")
        waiting = threading.Thread(target=background)
        waiting.start()
        time.sleep(0.3)  # the model is free, but a show is being written
        assert lock.waiting() == [BACKGROUND]
        with lock.hold(ON_AIR):
            order.append("line 2")
    waiting.join(10)
    assert order == ["line 1", "line 2", "summary"]
