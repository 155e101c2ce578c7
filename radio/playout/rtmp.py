"""The RTMP video stream: stills of the stage with the audio, published by ffmpeg.

ffmpeg publishes through a loopback relay (`rtmp_relay`) that puts the stream key in, so
the key is never on its command line.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
from typing import IO, Any

from radio.config import PlayoutSettings
from radio.playout.rtmp_relay import RtmpRelay
from radio.playout.supervise import PcmOutput, pcm_input


class RtmpOutput(PcmOutput):
    """The video stream: stills of the stage (page or title card, caption) with the audio.

    The stills go down a second pipe at `video_images_per_s`, written by their own thread
    and counted from the audio that reached ffmpeg, so picture and sound share one clock
    (even when audio is dropped) and neither pipe can wait on the other.
    """

    name = "rtmp"

    def __init__(self, cfg: PlayoutSettings, frame: Any) -> None:
        assert cfg.rtmp_url
        self.key = cfg.rtmp_stream_key() or ""
        super().__init__(cfg, [self.key])
        self.frame = frame  # () -> PNG bytes of the current stage
        self.fps_in = cfg.video_images_per_s
        self._pipe: tuple[int, int] | None = None
        self._samples = 0
        self._due = threading.Condition()
        self._stills: threading.Thread | None = None
        # ffmpeg publishes through a loopback relay that puts the key in: not in its argv.
        self.relay = RtmpRelay(cfg.rtmp_url, self.key) if self.key else None

    @property
    def target(self) -> list[str]:
        """ffmpeg's output: the relay (tcUrl still names the real ingest), or the URL."""
        base = (self.cfg.rtmp_url or "").rstrip("/")
        return ["-rtmp_tcurl", base, self.relay.url] if self.relay else [base]

    def stop(self) -> None:
        super().stop()
        if self.relay:
            self.relay.close()

    def command(self) -> list[str]:
        width, height = (int(v) for v in self.cfg.video_size.split("x"))
        fps = self.cfg.video_fps
        self._pipe = os.pipe()
        bitrate = self.cfg.video_bitrate
        size = f"{width}:{height}"
        return ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
                "-probesize", "32", "-analyzeduration", "0", *pcm_input(self.rate),
                "-thread_queue_size", "64", "-probesize", "32", "-analyzeduration", "0",
                "-fpsprobesize", "0", "-f", "png_pipe", "-framerate", f"{self.fps_in:g}",
                "-i", f"pipe:{self._pipe[0]}",
                "-map", "1:v", "-map", "0:a",
                "-vf", f"scale={size}:force_original_aspect_ratio=decrease,"
                       f"pad={size}:(ow-iw)/2:(oh-ih)/2,fps={fps},format=yuv420p",
                "-c:v", "libx264", "-preset", self.cfg.video_preset, "-tune", "stillimage",
                "-b:v", bitrate, "-maxrate", bitrate, "-bufsize", bitrate,
                "-g", str(2 * fps), "-keyint_min", str(2 * fps), "-sc_threshold", "0",
                "-c:a", "aac", "-b:a", self.cfg.audio_bitrate, "-ar", "44100", "-ac", "2",
                "-f", "flv", "-flvflags", "no_duration_filesize", *self.target]

    def extra_fds(self) -> tuple[int, ...]:
        return (self._pipe[0],) if self._pipe else ()

    def after_start(self) -> None:
        assert self._pipe is not None
        os.close(self._pipe[0])
        video = os.fdopen(self._pipe[1], "wb")
        self._pipe = None
        self._samples = 0
        self._stills = threading.Thread(target=self._write_stills, args=(video, self.proc),
                                        name="playout-rtmp-stills", daemon=True)
        self._stills.start()

    def after_write(self, pcm: bytes) -> None:
        with self._due:
            self._samples += len(pcm) // 2
            self._due.notify()

    def _write_stills(self, video: IO[bytes], proc: subprocess.Popen | None) -> None:
        """One still per 1/fps_in s of audio written, one ahead; ends with the child."""
        frames = 0
        with video:
            while not self._stop.is_set() and proc is not None and proc.poll() is None:
                with self._due:
                    if frames > self._samples * self.fps_in / self.rate + 1:
                        self._due.wait(timeout=1.0)
                        continue
                try:
                    video.write(self.frame())
                    video.flush()
                except (OSError, ValueError):  # the child is gone
                    return
                frames += 1

    def close_extra(self) -> None:
        if self._pipe is not None:  # the child never started
            for fd in self._pipe:
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._pipe = None
        if self._stills is not None:
            self._stills.join(timeout=10)
            self._stills = None
