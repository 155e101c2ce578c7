"""The deployment file is valid (Debian's docker-compose v1 validates offline)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from radio import workers

ROOT = Path(__file__).resolve().parents[2]


def compose_config(env_file: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker-compose", "--env-file", str(env_file), "-f", "docker-compose.yml", "config"],
        cwd=ROOT, capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="scripts/setup.sh installs it")
def test_compose_file_is_valid_and_complete() -> None:
    done = compose_config(ROOT / "config" / "example.env")
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load(done.stdout)
    services = config["services"]
    assert set(workers.WORKERS) <= set(services)
    assert {"mosquitto", "llm", "icecast"} <= set(services)
    for name in workers.WORKERS:
        env = services[name]["environment"]
        assert env["RADIO_BROKER_URL"].startswith(f"mqtt://{name}:"), name  # one user each
        assert env["RADIO_DATABASE_URL"].startswith("postgresql://"), name  # one shared store
        assert services[name]["depends_on"]["db"] == {"condition": "service_healthy"}, name
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    gpu = services["llm"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["capabilities"] == ["gpu"]


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="scripts/setup.sh installs it")
def test_compose_refuses_to_run_without_secrets(tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    done = compose_config(empty)
    assert done.returncode != 0 and "PASSWORD" in done.stderr


def test_acl_gives_every_worker_its_own_user() -> None:
    acl = (ROOT / "config" / "mosquitto" / "acl").read_text()
    users = {line.split()[1] for line in acl.splitlines() if line.startswith("user ")}
    assert set(workers.WORKERS) <= users
