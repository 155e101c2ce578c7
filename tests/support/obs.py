"""A real OBS Studio for tests: Xvfb, software GL, its own HOME, stopped by PID.

OBS's websocket binds 0.0.0.0, so `Obs` refuses to start outside a private network
namespace. `run_in_private_network` runs a command (a pytest run, say) in a fresh one
with only loopback up; the test's broker, nginx and OBS all start in there.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import obsws_python
from PIL import Image

from tests.support.ports import free_port, wait_listening

PASSWORD = "test-obs-secret"
WIDTH, HEIGHT = 640, 360  # a small canvas keeps x264 cheap on a shared machine


def obs_installed() -> bool:
    return all(shutil.which(tool) for tool in ("obs", "Xvfb", "unshare", "ip"))


def in_private_network() -> bool:
    """Whether loopback is this process's only network interface (nothing else reaches it)."""
    return [name for _, name in socket.if_nameindex()] == ["lo"]


def _unshare() -> list[str]:
    return ["unshare", "--net"] + ([] if os.geteuid() == 0 else ["--map-root-user"])


def can_make_private_network() -> bool:
    try:
        return subprocess.run([*_unshare(), "true"], capture_output=True, timeout=10
                              ).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def run_in_private_network(args: list[str], *, cwd: Path, timeout: float,
                           ) -> subprocess.CompletedProcess[str]:
    """Run `args` in a new network namespace where only 127.0.0.1 exists."""
    script = 'ip link set lo up && exec "$@"'
    return subprocess.run([*_unshare(), "sh", "-c", script, "sh", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


class Obs:
    """One OBS with a websocket on `port`; `kill` + `start` is a crash and a restart."""

    def __init__(self, workdir: Path, port: int | None = None,
                 size: tuple[int, int] = (WIDTH, HEIGHT), video_kbps: int = 600,
                 x264_preset: str = "ultrafast") -> None:
        if not in_private_network():
            raise RuntimeError("OBS's websocket binds 0.0.0.0: start it only in a private "
                               "network namespace (tests.support.obs.run_in_private_network)")
        self.dir = workdir
        self.home = workdir / "home"
        self.record_dir = workdir / "recordings"
        self.port = port or free_port()
        self.password = PASSWORD
        self.xvfb: subprocess.Popen | None = None
        self.proc: subprocess.Popen | None = None
        self.display: str | None = None
        self.size, self.video_kbps, self.x264_preset = size, video_kbps, x264_preset
        self._write_config()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def _write_config(self) -> None:
        config = self.home / ".config" / "obs-studio"
        width, height = self.size
        profile = config / "basic" / "profiles" / "Test"
        profile.mkdir(parents=True, exist_ok=True)
        self.record_dir.mkdir(parents=True, exist_ok=True)
        (config / "global.ini").write_text(
            "[General]\nFirstRun=true\nEnableAutoUpdates=false\n"
            "[BasicWindow]\nSysTrayEnabled=false\n"
            "[OBSWebSocket]\nFirstLoad=false\nServerEnabled=true\n"
            f"ServerPort={self.port}\nAuthRequired=true\nServerPassword={self.password}\n")
        (profile / "basic.ini").write_text(
            "[General]\nName=Test\n"
            f"[Video]\nBaseCX={width}\nBaseCY={height}\nOutputCX={width}\nOutputCY={height}\n"
            "FPSType=0\nFPSCommon=30\n"
            "[Output]\nMode=Simple\n"
            f"[SimpleOutput]\nFilePath={self.record_dir}\nRecFormat=flv\nRecQuality=Stream\n"
            f"VBitrate={self.video_kbps}\nABitrate=128\nPreset={self.x264_preset}\n")

    def start(self, timeout: float = 90.0) -> Obs:
        if self.xvfb is None:
            self._start_xvfb()
        env = {**os.environ, "HOME": str(self.home), "DISPLAY": self.display or "",
               "LIBGL_ALWAYS_SOFTWARE": "1", "QT_QPA_PLATFORM": "xcb"}
        log = (self.dir / "obs.log").open("ab")
        self.proc = subprocess.Popen(
            ["obs", "--multi", "--disable-missing-files-check",
             "--profile", "Test", "--collection", "Test", "--websocket_port", str(self.port),
             "--websocket_password", self.password],
            env=env, cwd=self.dir, stdout=log, stderr=subprocess.STDOUT)
        wait_listening(self.port, timeout=timeout)
        return self

    def _start_xvfb(self) -> None:
        read, write = os.pipe()
        self.xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0",
             f"{self.size[0]}x{self.size[1]}x24", "-nolisten", "tcp"], pass_fds=(write,),
            stdout=subprocess.DEVNULL, stderr=(self.dir / "xvfb.log").open("ab"))
        os.close(write)
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise RuntimeError(f"Xvfb did not start; see {self.dir / 'xvfb.log'}")
        self.display = f":{number}"

    def kill(self) -> None:
        """A crash: SIGKILL, nothing saved (Xvfb stays for the restart)."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)
        if self.xvfb and self.xvfb.poll() is None:
            self.xvfb.terminate()
            self.xvfb.wait(timeout=10)
        self.xvfb = None

    def _signal(self, sig: int) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def client(self) -> obsws_python.ReqClient:
        """The test's own obs-websocket session."""
        return obsws_python.ReqClient(host="127.0.0.1", port=self.port,
                                      password=self.password, timeout=15)

    def __enter__(self) -> Obs:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def screenshot(client: obsws_python.ReqClient, source: str) -> Image.Image:
    """GetSourceScreenshot of a scene or input, as an RGB image at canvas size."""
    answer = client.send("GetSourceScreenshot", {"sourceName": source, "imageFormat": "png"},
                         raw=True)
    data = answer["imageData"].partition(",")[2]
    return Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")
