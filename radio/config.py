"""Typed settings: `config/radio.toml`, then `RADIO_*` environment variables.

Nested sections map to TOML tables (`[llm]`) and to env names with a double
underscore (`RADIO_LLM__MODEL_PATH`). Unknown keys are errors that name the key.
Secrets (`SecretStr` fields) are refused in the TOML file: they come only from the
environment or from a `*_file` path, and they never print.
"""

from __future__ import annotations

import os
import tomllib
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from radio.backends.device import DEVICE_HELP, Device
from radio.backends.embedder.onnx import OnnxSettings
from radio.backends.embedder.registry import BACKENDS as EMBEDDER_BACKENDS
from radio.backends.llm.llamacpp import LlamaCppSettings
from radio.backends.llm.openai_server import OpenAISettings
from radio.backends.llm.registry import BACKENDS as LLM_BACKENDS
from radio.backends.tts.hibari import HibariSettings
from radio.backends.tts.kokoro import KokoroSettings
from radio.backends.tts.piper import PiperSettings

DEFAULT_CONFIG = Path("config/radio.toml")
EMBEDDED_BROKER_PORT = 18830


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _known(name: str, backends: dict[str, str], what: str) -> str:
    if name not in backends:
        raise ValueError(f"unknown {what} backend {name!r} (known: {', '.join(backends)})")
    return name


def _read_secret(value: SecretStr | None, file: Path | None) -> str | None:
    if value is not None:
        return value.get_secret_value()
    if file is not None:
        return file.read_text().strip()
    return None


class BusSettings(Section):
    topic_prefix: str = Field("radio", description="Prefix of every topic on the bus.")
    mqtt_version: Literal["auto", "5", "3.1.1"] = Field(
        "auto", description="auto: MQTT v5 on a real broker, 3.1.1 on the embedded one."
    )
    embedded_port: int = Field(EMBEDDED_BROKER_PORT, description="Embedded broker port.")
    password_file: Path | None = Field(None, description="Broker password, if not in the URL.")
    heartbeat_s: float = Field(10.0, description="Seconds between status heartbeats.")
    keepalive_s: int = Field(30, description="MQTT keepalive; the will fires after 1.5x.")
    shared_subscriptions: bool = Field(
        True, description="Split work between instances ($share/<worker>/...) on an MQTT v5 "
        "broker. mosquitto 2.0.11 does not restore shared subscriptions after its own restart, "
        "so messages published before the workers reconnect are lost; run one instance per "
        "worker with this off where broker restarts must lose nothing.")
    max_attempts: int = Field(3, description="Handler attempts before a message is failed.")


class FetcherSettings(Section):
    poll_interval_s: float = Field(3600.0, description="Seconds between polls of arXiv.")
    max_per_day: int = Field(200, description="Cap on new papers fetched per day.")
    min_request_interval_s: float = Field(3.0, description="arXiv asks for >= 3 s.")
    max_pdf_bytes: int = Field(50_000_000, description="PDF download size cap.")
    request_timeout_s: float = Field(60.0, description="Timeout of one HTTP request.")
    max_backoff_s: float = Field(300.0, description="Cap of the retry back-off.")
    backoff_base_s: float = Field(5.0, description="First back-off after 429/5xx/network errors.")
    max_attempts: int = Field(4, description="Tries of one request before it fails.")
    download_timeout_s: float = Field(300.0, description="Wall-clock limit of one PDF download.")
    retry_failed_after_s: float = Field(
        6 * 3600.0, description="A paper whose fetch failed is tried again by polls after this.")
    rss_base_url: str = Field("https://rss.arxiv.org", description="Daily listing feeds.")
    oai_base_url: str = Field("https://oaipmh.arxiv.org/oai", description="OAI-PMH endpoint.")
    pdf_base_url: str = Field("https://arxiv.org", description="PDF host (/pdf/<id>).")


class PdfSettings(Section):
    page_width_px: int = Field(1280, description="Width of rendered page images.")
    max_pages: int = Field(60, description="Pages rendered and parsed at most.")
    max_bytes: int = Field(50_000_000, description="Larger PDFs are refused.")
    timeout_s: float = Field(120.0, description="Wall-clock limit of one parse.")
    max_memory_mb: int = Field(2048, description="Address-space cap of the parser process.")


class SamplingSettings(Section):
    temperature: float = 0.7
    top_p: float = 0.9
    min_p: float = 0.05
    repeat_penalty: float = 1.15
    max_tokens: int = 512
    mirostat_mode: int = 0
    seed: int | None = Field(None, description="Fixed seed for repeatable output; None: random.")


class LLMSettings(LlamaCppSettings, OpenAISettings, Section):
    """[llm]: the backend's own keys come from its settings class (radio/backends/llm/)."""

    backend: str = Field("llamacpp", description="LLM backend: "
                         + ", ".join(LLM_BACKENDS) + ".")
    summary: SamplingSettings = SamplingSettings(temperature=0.3, max_tokens=800)
    summary_passages: int = Field(8, description="Passages of the paper a fact sheet reads "
                                  "(besides the abstract); each costs prompt time.")
    chunk_words: int = Field(160, description="Words per chunk of paper text.")
    summary_regenerations: int = Field(1, description="Retries of a summary that is not grounded.")
    dialogue: SamplingSettings = SamplingSettings(temperature=0.7, max_tokens=600)

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        return _known(value, LLM_BACKENDS, "LLM")


class EmbedderSettings(OnnxSettings, Section):
    """[embedder]: the backend's own keys come from its settings class."""

    backend: str = Field("onnx", description="Embedder backend: "
                         + ", ".join(EMBEDDER_BACKENDS) + " (onnx: the sentence-transformers "
                         "model on onnxruntime, without torch in the station).")
    interests: list[str] = Field(
        default_factory=lambda: [
            "large language models",
            "retrieval-augmented generation",
            "reinforcement learning",
            "computer vision",
        ],
        description="Topics that rank papers for the shows.",
    )

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        return _known(value, EMBEDDER_BACKENDS, "embedder")


class Host(Section):
    name: str
    persona: str
    voice: str = Field(description="backend:voice, e.g. piper:joe or kokoro:jf_alpha.")


class WriterSettings(Section):
    hosts: list[Host] = Field(
        default_factory=lambda: [
            Host(name="Alex", persona="curious generalist who restates what he hears in "
                 "plain words, asks what it means and pushes back",
                 voice="piper:joe"),
            Host(name="Mira", persona="researcher who explains ideas with everyday "
                 "analogies and gives each number with what it is compared with",
                 voice="hibari:heart"),
        ]
    )
    daily_length_s: int = 30 * 60
    weekly_length_s: int = 45 * 60
    discussion_count: int = Field(3, description="Top papers that get a full discussion.")
    words_per_minute: int = 150
    max_regenerations: int = Field(1, description="Times a line that fails its checks is "
                                   "written again before the fallback line is used.")
    length_tolerance: float = Field(0.15, description="Allowed length error of a whole show.")
    prompts_dir: Path | None = Field(None, description="Prompt templates; default: prompts/.")


class TTSSettings(PiperSettings, KokoroSettings, HibariSettings, Section):
    """[tts]: each backend's own keys come from its settings class (radio/backends/tts/)."""

    sample_rate: int = Field(24000, ge=8000, le=48000, description="Rate of every voiced "
                             "segment (mono); each voice is resampled to it.")
    audio_format: Literal["wav", "flac"] = Field("wav", description="File format of segments.")
    fallback_voice: str = Field("flite:slt", description="Voice for lines a backend fails on.")
    pause_between_speakers_s: float = Field(0.35, ge=0, le=5, description="Silence after a "
                                            "line when the next one has another speaker.")
    pause_same_speaker_s: float = Field(0.15, ge=0, le=5, description="Silence after a line "
                                        "when the same host goes on.")
    speed: float = Field(1.0, ge=0.5, le=2.0, description="Speaking rate of every voice.")
    device: Device = Field("auto", description="Where the ONNX voices (Piper, Kokoro, "
                           "hibari) run. " + DEVICE_HELP)


class RecorderSettings(Section):
    bitrate: str = Field("128k", description="mp3 bitrate (libmp3lame, 44.1 kHz mono).")
    target_lufs: float = Field(-16.0, description="Integrated loudness of episodes.")
    line_gap_s: float = Field(0.0, ge=0, le=5, description="Silence added between lines "
                              "(the tts worker already pauses between speakers).")


class FeedSettings(Section):
    title: str = "Paper Radio"
    description: str = "The newest AI papers on arXiv, read and discussed every day."
    author: str = "Paper Radio"
    language: str = "en"
    public_url: str | None = Field(None, description="Base URL listeners use; default http_bind.")
    keep_episodes: int = Field(100, ge=1, description="Newest episodes kept; older are deleted.")
    keep_days: int = Field(90, ge=1, description="Episodes older than this are deleted.")
    category: str = Field("Technology", description="Apple Podcasts category.")
    subcategory: str | None = Field(None, description="Apple subcategory, where it has them.")
    explicit: bool = False
    owner_email: str | None = Field(None, description="itunes:owner e-mail (Apple contacts it).")


class PlayoutSettings(Section):
    icecast_url: str | None = Field(None, description="icecast://host:port/mount (no password).")
    icecast_password: SecretStr | None = None
    icecast_password_file: Path | None = None
    rtmp_url: str | None = Field(None, description="RTMP ingest without the stream key.")
    rtmp_key: SecretStr | None = None
    rtmp_key_file: Path | None = None
    video_size: str = "1280x720"
    video_fps: int = 30
    video_bitrate: str = "2500k"
    audio_bitrate: str = "128k"
    crossfade_s: float = 0.3
    show_pages_only_if_licensed: bool = True
    icecast_user: str = Field("source", description="Icecast source user.")
    listen_bind: str | None = Field(
        "127.0.0.1:8001", description="Serve the mp3 stream itself at http://<bind>/radio.mp3, "
        "for listeners without Icecast; empty: off.")
    sample_rate: int = Field(24000, description="Rate of the on-air timeline (mono); segments "
                             "at another rate are resampled.")
    chunk_ms: int = Field(100, ge=10, le=500, description="PCM written per tick of the clock.")
    lead_s: float = Field(0.5, ge=0, le=5, description="Audio written ahead of the wall clock.")
    output_buffer_s: float = Field(4.0, description="Audio an output may fall behind before "
                                   "its oldest chunks are dropped.")
    gap_s: float = Field(0.0, ge=0, le=2, description="Extra pause between lines (tts already "
                         "puts the line's pause in its file).")
    ident_text: str = Field("You are listening to Paper Radio: the newest papers on arXiv, "
                            "read and discussed.", description="Spoken station ident.")
    ident_every_s: float = Field(600.0, description="Fallback repeats the ident this often.")
    bed_s: float = Field(20.0, description="Music bed between replays in fallback.")
    bed_level_db: float = Field(-24.0, le=-6, description="RMS level of the music bed.")
    replay_lines: int = Field(4, ge=1, description="Lines in one block of replays.")
    replay_memory_s: float = Field(900.0, description="Recent audio kept for replays.")
    gap_wait_s: float = Field(10.0, description="How long a missing line is waited for before "
                              "the show goes on without it.")
    stall_timeout_s: float = Field(120.0, description="How long a show with nothing voiced "
                                   "holds the air before a show that is ready goes first.")
    restore_window_h: float = Field(48.0, description="Unaired lines this recent are aired "
                                    "after a restart.")
    video_preset: str = Field("veryfast", description="libx264 preset of the RTMP output.")
    video_images_per_s: float = Field(2.0, gt=0, le=30, description="Stills fed to ffmpeg per "
                                      "second; it repeats them up to video_fps.")
    obs_files: bool = Field(True, description="Write onair/ files for OBS sources.")

    def rtmp_stream_key(self) -> str | None:
        return _read_secret(self.rtmp_key, self.rtmp_key_file)

    def icecast_secret(self) -> str | None:
        return _read_secret(self.icecast_password, self.icecast_password_file)


class OBSSettings(Section):
    url: str = Field("ws://127.0.0.1:4455", description="obs-websocket v5 address.")
    password: SecretStr | None = None
    password_file: Path | None = None
    collection: str = Field("Paper Radio", description="Scene collection the worker owns.")
    data_dir: Path | None = Field(
        None, description="The data root as OBS sees it (OBS on another host or outside the "
        "container); default: data_dir.")
    audio_url: str | None = Field(
        None, description="What OBS plays as the station's audio; default: the Icecast mount.")
    stream_url: str | None = Field(
        None, description="RTMP ingest OBS streams to; default: playout.rtmp_url; unset in "
        "both: OBS keeps its own stream settings.")
    stream_key: SecretStr | None = Field(None, description="Default: playout's RTMP key.")
    stream_key_file: Path | None = None
    poll_s: float = Field(2.0, description="Seconds between polls of OBS's state.")
    timeout_s: float = Field(10.0, description="Timeout of one obs-websocket request.")
    reconnect_max_s: float = Field(10.0, description="Cap of the reconnect back-off (OBS "
                                   "back is used again within it).")

    def secret(self) -> str | None:
        return _read_secret(self.password, self.password_file)

    def stream_secret(self) -> str | None:
        return _read_secret(self.stream_key, self.stream_key_file)


class StarterShow(Section):
    kind: Literal["daily", "weekly", "latest", "deep_dive"]
    at: str = Field(description="Local time HH:MM in scheduler.timezone.")
    days: str = Field(description="mon-fri, sat,sun, daily, ...")


class SchedulerSettings(Section):
    timezone: str = "UTC"
    starter_shows: list[StarterShow] = Field(
        default_factory=list, description="Put in the schedule once, at the station's first "
        "start; from then on `radio schedule` owns the schedule.")
    buffer_ahead_s: int = Field(15 * 60, description="Voiced material kept ahead of the air.")
    tick_s: float = 5.0
    latest_length_s: int = Field(10 * 60, description="Length of a between-shows 'latest'.")
    deep_dive_length_s: int = Field(10 * 60, description="Length of a between-shows deep dive.")
    catch_up_s: int = Field(3600, description="A show missed by less than this still fires.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:  # refused at start, not when the scheduler first needs the local time
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name like "
                             "Europe/Helsinki") from None
        return value


class ClockSettings(Section):
    time_scale: float = Field(1.0, gt=0, le=10000, description="Station time per real "
                              "second, read by the scheduler and the playout clock: 1 on air; "
                              "more for an accelerated soak (scripts/soak.py).")
    start: datetime | None = Field(None, description="Station time at `started_at` "
                                   "(default: the real time then).")
    started_at: datetime | None = Field(None, description="Real time the station clock starts "
                                        "from (default: the process's start); one value for "
                                        "every worker keeps their clocks together.")


class DiskSettings(Section):
    reserve_mb: float = Field(200.0, ge=0, description="Free space kept under data_dir: below "
                              "it, workers refuse new work (kept pending, reported on `errors` "
                              "and in status) and the air plays on.")
    check_s: float = Field(5.0, gt=0, description="How often a refusing worker looks again.")


class Settings(BaseSettings):
    """Every setting of the station. Field names are stable: deployments rely on them."""

    model_config = SettingsConfigDict(
        env_prefix="RADIO_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    data_dir: Path = Field(Path("./data"), description="Root of every artifact and the DB.")
    database_url: str | None = Field(
        None, description="postgresql://user@host/db for a station on several machines; "
        "unset: SQLite under data_dir.")
    broker_url: SecretStr | None = Field(
        None, description="mqtt://user:pass@host:1883; unset runs the embedded broker."
    )
    arxiv_base_url: str = Field("https://export.arxiv.org", description="arXiv API host.")
    http_bind: str = Field("127.0.0.1:8000", description="Address of the station's HTTP server.")
    categories: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["cs.AI", "cs.LG", "cs.CL", "cs.CV"],
        description="arXiv categories to follow (env: comma-separated).",
    )
    log_level: str = "INFO"

    bus: BusSettings = BusSettings()
    fetcher: FetcherSettings = FetcherSettings()
    pdf: PdfSettings = PdfSettings()
    llm: LLMSettings = LLMSettings()
    embedder: EmbedderSettings = EmbedderSettings()
    writer: WriterSettings = WriterSettings()
    tts: TTSSettings = TTSSettings()
    recorder: RecorderSettings = RecorderSettings()
    feed: FeedSettings = FeedSettings()
    playout: PlayoutSettings = PlayoutSettings()
    obs: OBSSettings = OBSSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    clock: ClockSettings = ClockSettings()
    disk: DiskSettings = DiskSettings()

    @field_validator("categories", mode="before")
    @classmethod
    def _split_categories(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [c.strip() for c in value.split(",") if c.strip()]
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = Path(os.environ.get("RADIO_CONFIG", DEFAULT_CONFIG))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path.is_file():
            _refuse_secrets_in_file(path)
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @property
    def database_path(self) -> Path:
        return self.data_dir / "radio.sqlite3"

    @property
    def uses_embedded_broker(self) -> bool:
        return self.broker_url is None

    def broker(self) -> BrokerAddress:
        if self.broker_url is None:
            return BrokerAddress("127.0.0.1", self.bus.embedded_port, None, None, embedded=True)
        parts = urlsplit(self.broker_url.get_secret_value())
        if parts.scheme not in ("mqtt", "tcp", ""):
            raise ValueError(f"broker_url: unsupported scheme {parts.scheme!r} (use mqtt://)")
        password = parts.password
        if password is None and self.bus.password_file is not None:
            password = self.bus.password_file.read_text().strip()
        return BrokerAddress(parts.hostname or "127.0.0.1", parts.port or 1883, parts.username,
                             password, embedded=False)


class BrokerAddress:
    """Where the bus connects; `repr` hides the password."""

    def __init__(self, host: str, port: int, username: str | None, password: str | None,
                 *, embedded: bool) -> None:
        self.host, self.port, self.username, self.password = host, port, username, password
        self.embedded = embedded

    def __repr__(self) -> str:
        user = f"{self.username}:***@" if self.username else ""
        return f"mqtt://{user}{self.host}:{self.port}"


def _secret_paths(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths += _secret_paths(annotation, (*prefix, name))
        elif "SecretStr" in str(annotation):
            paths.append((*prefix, name))
    return paths


def _refuse_secrets_in_file(path: Path) -> None:
    data = tomllib.loads(path.read_text())
    for secret in _secret_paths(Settings):
        node: Any = data
        for key in secret:
            node = node.get(key) if isinstance(node, dict) else None
        if node is not None:
            key = ".".join(secret)
            raise ValueError(f"{path}: secret {key!r} must come from the environment or a file")


@cache
def get_settings() -> Settings:
    return Settings()
