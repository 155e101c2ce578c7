"""Settings, message models and the store, without a broker."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from radio.artifacts import DataRoot, InvalidId, parse_arxiv_id, write_atomic
from radio.config import Settings
from radio.messages import ALL_MESSAGES, Artifact, PaperFetched, ShowRequested, parse
from radio.store import MIGRATIONS, Store


def test_unknown_config_key_is_an_error_naming_it(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "radio.toml"
    config.write_text('data_dir = "x"\n[llm]\nmodel_pth = "typo.gguf"\n')
    monkeypatch.setenv("RADIO_CONFIG", str(config))
    with pytest.raises(ValidationError, match="model_pth"):
        Settings()


def test_secrets_only_from_environment(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "radio.toml"
    config.write_text('[obs]\npassword = "hunter2"\n')
    monkeypatch.setenv("RADIO_CONFIG", str(config))
    with pytest.raises(ValueError, match=r"obs\.password"):
        Settings()
    config.write_text("")
    monkeypatch.setenv("RADIO_OBS__PASSWORD", "hunter2")
    settings = Settings()
    assert settings.obs.secret() == "hunter2"
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.model_dump())


def test_fixed_settings_from_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RADIO_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("RADIO_CATEGORIES", "cs.LG, cs.CL")
    monkeypatch.setenv("RADIO_BROKER_URL", "mqtt://worker:s3cret@broker.example:1884")
    monkeypatch.setenv("RADIO_ARXIV_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("RADIO_HTTP_BIND", "127.0.0.1:8123")
    settings = Settings()
    assert settings.categories == ["cs.LG", "cs.CL"]
    assert settings.data_dir == tmp_path / "d"
    broker = settings.broker()
    assert (broker.host, broker.port, broker.username, broker.password) == (
        "broker.example", 1884, "worker", "s3cret")
    assert "s3cret" not in repr(broker) and "s3cret" not in repr(settings)
    assert settings.arxiv_base_url == "http://127.0.0.1:9"
    assert settings.http_bind == "127.0.0.1:8123"


def test_every_topic_has_one_model() -> None:
    topics = [m.TOPIC for m in ALL_MESSAGES]
    assert len(topics) == len(set(topics))


def test_idempotency_key_is_stable_and_content_based() -> None:
    pdf = Artifact(path="papers/2312.10997/2312.10997v5.pdf", sha256="ab" * 32, bytes=10)
    first = PaperFetched(arxiv_id="2312.10997", version=5, title="t", authors=[], abstract="",
                         pdf=pdf)
    again = PaperFetched.from_json(first.to_json().replace(b'"id":"', b'"id":"'))
    later = PaperFetched(arxiv_id="2312.10997", version=5, title="t", authors=[], abstract="",
                         pdf=pdf)
    other = PaperFetched(arxiv_id="2312.10997", version=6, title="t", authors=[], abstract="",
                         pdf=pdf)
    assert first.id == again.id == later.id
    assert first.id != other.id


def test_parse_rejects_bad_payloads_with_a_reason() -> None:
    with pytest.raises(ValueError, match="invalid ShowRequested"):
        parse(ShowRequested, b'{"show_id": "x"}')
    with pytest.raises(ValueError, match=r"undecodable|invalid"):
        parse(ShowRequested, b"\xff\xfe not json")
    newer = ShowRequested(show_id="s", kind="daily", date="2026-11-21", length_s=60)
    payload = newer.to_json().replace(b'"schema_version":1', b'"schema_version":9')
    with pytest.raises(ValueError, match="newer"):
        parse(ShowRequested, payload)


@pytest.mark.parametrize("raw, expected", [
    ("2501.10120v1", ("2501.10120", 1)),
    ("2312.10997", ("2312.10997", None)),
    ("astro-ph/0601001", ("astro-ph/0601001", None)),
    ("quant-ph/0201082v1", ("quant-ph/0201082", 1)),
    ("https://arxiv.org/abs/2308.08155v2", ("2308.08155", 2)),
    ("arXiv:0704.0001", ("0704.0001", None)),
])
def test_arxiv_ids_parse(raw: str, expected: tuple) -> None:
    assert parse_arxiv_id(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "../../etc/passwd", "2501.10120/../../x", "", "1234.5",
                                 "astro-ph/0601001; rm -rf /"])
def test_bad_ids_never_become_paths(raw: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidId):
        DataRoot(tmp_path).paper_dir(raw)


def test_atomic_write_and_checksum(tmp_path: Path) -> None:
    root = DataRoot(tmp_path)
    path = write_atomic(root.paper_dir("2312.10997") / "text.txt", "hello")
    artifact = root.artifact(path)
    assert artifact.path == "papers/2312.10997/text.txt" and artifact.bytes == 5
    assert root.verify(artifact) == path
    path.write_text("tampered")
    with pytest.raises(ValueError, match="checksum"):
        root.verify(artifact)
    assert not list(path.parent.glob("*.tmp"))


def test_store_migrates_once_and_inbox_deduplicates(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite3")
    assert store.schema_version == len(MIGRATIONS)
    assert store.inbox_receive("pdf", "m1", "papers/fetched", b"{}")
    assert not store.inbox_receive("pdf", "m1", "papers/fetched", b"{}")
    assert store.inbox_receive("tts", "m1", "papers/fetched", b"{}")  # per worker
    assert store.backlog("pdf") == 1
    store.inbox_finish("pdf", "m1", error="boom")
    assert store.backlog("pdf") == 0
    assert store.inbox_requeue("pdf") == 1 and store.backlog("pdf") == 1
    store.close()
    reopened = Store(tmp_path / "db.sqlite3")  # a second open runs no migration again
    assert reopened.schema_version == len(MIGRATIONS)
    assert reopened.journal_mode() == "wal"
    assert not reopened.inbox_receive("pdf", "m1", "papers/fetched", b"{}")
