"""What the picture shows now: the stage still for the video, and the files OBS reads."""

from __future__ import annotations

from pathlib import Path

from radio.artifacts import write_atomic
from radio.messages import OnAirNow
from radio.playout import visuals


class Screen:
    """What the picture shows now: the stage still for ffmpeg, files for OBS.

    Files under `<data>/onair/`, each replaced atomically: current.png (the page or the
    title card), stage.png (the whole video still), caption.txt, speaker.txt, text.txt,
    title.txt, authors.txt, show.txt, arxiv_id.txt, mode.txt and now.json (onair/now).
    """

    def __init__(self, folder: Path, size: str, station: str, *, write_files: bool) -> None:
        self.folder = folder
        width, height = (int(v) for v in size.split("x"))
        self.size = (width, height)
        self.station = station
        self.write_files = write_files
        self.image: Path | None = None
        self.frame = visuals.stage_frame(self.size, show=station, title=None, arxiv_id=None,
                                         speaker=None, text="", image=None,
                                         placeholder=(station, "Starting soon"))

    def show(self, now: OnAirNow, image: Path | None) -> None:
        """Compose the still and write the files (in a thread: it takes tens of ms)."""
        show = f"{self.station} · {now.show_title}" if now.show_title else self.station
        if now.mode == "fallback" and now.show_title:
            show = f"{self.station} · From earlier: {now.show_title}"
        line = {"live": now.show_title, "ident": "On air", "fallback": "Back in a moment"}
        self.frame = visuals.stage_frame(
            self.size, show=show, title=now.title, arxiv_id=now.paper_id, speaker=now.speaker,
            text="" if now.mode == "ident" else now.text, image=image,
            placeholder=(self.station, line.get(now.mode) or ""))
        if self.write_files:
            self._write(now, image, show)

    def _write(self, now: OnAirNow, image: Path | None, show: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if image != self.image:
            write_atomic(self.folder / "current.png",
                         image.read_bytes() if image and image.is_file() else self.frame)
            self.image = image
        write_atomic(self.folder / "stage.png", self.frame)
        caption = f"{now.speaker}: {now.text}" if now.speaker and now.text else now.text
        texts = {"caption": caption, "speaker": now.speaker or "", "text": now.text,
                 "title": now.title or now.show_title or self.station,
                 "authors": ", ".join(now.authors), "show": show,
                 "arxiv_id": now.paper_id or "", "mode": now.mode}
        for name, text in texts.items():
            write_atomic(self.folder / f"{name}.txt", text + "\n")
        write_atomic(self.folder / "now.json", now.model_dump_json(indent=1))
