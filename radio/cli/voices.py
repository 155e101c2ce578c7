"""`radio voices list|check|say`: the voices the station can speak with, and a try-out."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from radio.cli.common import console, fail, settings

app = typer.Typer(no_args_is_help=True)


@app.command("list")
def list_voices() -> None:
    """Every voice of every backend, and which host uses which."""
    from radio.backends.tts import BACKENDS, available_voices

    cfg = settings()
    used = {host.voice: host.name for host in cfg.writer.hosts}
    used.setdefault(cfg.tts.fallback_voice, "(fallback)")
    table = Table("voice", "used by")
    for backend in BACKENDS:
        try:
            names = available_voices(backend, cfg)
        except Exception as exc:  # a backend that is not installed still lists the others
            table.add_row(f"{backend}:*", f"[red]unavailable: {exc}[/]")
            continue
        for name in names:
            table.add_row(name, used.get(name, ""))
    console.print(table)


@app.command("check")
def check() -> None:
    """Check the hosts' voices and the fallback, as the tts worker does at start-up."""
    from radio.backends.tts import UnknownVoice, validate_voices

    try:
        hosts = validate_voices(settings())
    except UnknownVoice as exc:
        fail(str(exc))
    for host, voice in hosts.items():
        console.print(f"{host}: {voice} [green]ok[/]")


@app.command("say")
def say_text(
    text: str = typer.Argument(..., help="What to say (normalized as a script line is)."),
    voice: str = typer.Option("piper:joe", help="backend:voice"),
    out: Path = typer.Option(Path("voice.wav"), help="WAV file to write."),
) -> None:
    """Speak one line into a WAV file, exactly as the tts worker would voice it."""
    from radio.backends.tts import UnknownVoice, load_voice, say
    from radio.speech.audio import finish_line, write_audio
    from radio.speech.normalize import normalize

    cfg = settings()
    try:
        spoken = load_voice(voice, cfg)
    except UnknownVoice as exc:
        fail(str(exc))
    audio, rate = say(spoken, text)
    audio = finish_line(audio, rate, cfg.tts.sample_rate, 0.0)
    write_audio(out, audio, cfg.tts.sample_rate)
    console.print(f"said: {normalize(text, spoken.engine)}")
    console.print(f"{out}: {audio.size / cfg.tts.sample_rate:.2f} s at {cfg.tts.sample_rate} Hz")
