"""The GPU deployment in docker-compose.yml: llama.cpp's CUDA server with every layer on the
GPU and slots as large as the workers' context, GPUs reserved for the model workers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from radio.config import LLMSettings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def services() -> dict:
    if not shutil.which("docker-compose"):
        pytest.skip("scripts/setup.sh installs docker-compose")
    done = subprocess.run(["docker-compose", "--env-file", "config/example.env", "-f",
                           "docker-compose.yml", "config"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)["services"]


def flag(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_the_llm_server_holds_the_whole_model_and_a_full_context_per_slot(
        services: dict) -> None:
    command = services["llm"]["command"]
    assert "cuda" in services["llm"]["image"]
    assert int(flag(command, "-ngl")) >= 99  # every layer of any model we ship
    per_slot = int(flag(command, "-c")) // int(flag(command, "--parallel"))
    assert per_slot >= LLMSettings().n_ctx  # llama.cpp splits -c between the slots
    assert int(flag(command, "--cache-reuse")) > 0  # with the workers' cache_prompt


@pytest.mark.parametrize("name", ["llm", "embeddings", "tts"])
def test_the_model_services_reserve_an_nvidia_gpu(services: dict, name: str) -> None:
    [gpu] = services[name]["deploy"]["resources"]["reservations"]["devices"]
    assert gpu["driver"] == "nvidia" and gpu["capabilities"] == ["gpu"]


def test_the_llm_workers_use_the_server_and_ask_for_its_prompt_cache(services: dict) -> None:
    for name in ("summarizer", "writer"):
        env = services[name]["environment"]
        assert env["RADIO_LLM__BACKEND"] == "openai"
        assert env["RADIO_LLM__BASE_URL"] == "http://llm:8080/v1"
    assert LLMSettings().cache_prompt
