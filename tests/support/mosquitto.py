"""A real mosquitto on 127.0.0.1 for tests: auth, ACL, persistence; stopped by PID."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Self

from tests.support.ports import free_port, start_server, stop_server

USER, PASSWORD = "radio", "test-secret"


class MosquittoServer:
    """A mosquitto process run from `<dir>/mosquitto.conf` on `port`, stopped by PID."""

    dir: Path
    port: int
    proc: subprocess.Popen | None

    def start(self) -> Self:
        self.proc = start_server(["mosquitto", "-c", str(self.dir / "mosquitto.conf")],
                                 self.dir / "mosquitto.log", self.port)
        return self

    def stop(self) -> None:
        stop_server(self.proc)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


class Mosquitto(MosquittoServer):
    def __init__(self, workdir: Path) -> None:
        if not shutil.which("mosquitto"):
            raise RuntimeError("mosquitto is not installed (scripts/setup.sh installs it)")
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        passwd = self.dir / "passwd"
        subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwd), USER, PASSWORD], check=True)
        os.chmod(passwd, 0o600)
        (self.dir / "acl").write_text(f"user {USER}\ntopic readwrite #\ntopic read $SYS/#\n")
        (self.dir / "data").mkdir(exist_ok=True)
        (self.dir / "mosquitto.conf").write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous false\n"
            f"password_file {passwd}\n"
            f"acl_file {self.dir / 'acl'}\n"
            "persistence true\n"
            f"persistence_location {self.dir / 'data'}/\n"
            "autosave_interval 1\n"
            "max_queued_messages 100000\n"
            + ("user root\n" if os.geteuid() == 0 else "")
        )

    @property
    def url(self) -> str:
        return f"mqtt://{USER}:{PASSWORD}@127.0.0.1:{self.port}"
