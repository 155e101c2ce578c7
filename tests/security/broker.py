"""The production broker as deployed: config/mosquitto/ on a loopback port, users made by
scripts/mqtt-passwords.sh. Only the paths and the port differ from docker-compose."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.mosquitto import MosquittoServer
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "mosquitto"
USERS = ("fetcher", "pdf", "summarizer", "embeddings", "writer", "scheduler", "tts",
         "recorder", "playout", "obs", "admin")


def password(user: str) -> str:
    return f"pw-{user}-7f3a"


class ProductionBroker(MosquittoServer):
    def __init__(self, workdir: Path) -> None:
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.passwd = self.dir / "passwd"
        env = {"PATH": os.environ["PATH"], "ENV_FILE": str(self.dir / "no.env"),
               **{f"MQTT_PASSWORD_{u.upper()}": password(u) for u in USERS}}
        subprocess.run(["bash", str(ROOT / "scripts" / "mqtt-passwords.sh"), str(self.passwd)],
                       env=env, check=True, capture_output=True, timeout=60)
        (self.dir / "data").mkdir(exist_ok=True)
        conf = (CONFIG / "mosquitto.conf").read_text()
        conf = conf.replace("listener 1883", f"listener {self.port} 127.0.0.1")
        conf = conf.replace("/mosquitto/config/passwd", str(self.passwd))
        conf = conf.replace("/mosquitto/config/acl", str(CONFIG / "acl"))
        conf = conf.replace("/mosquitto/data/", f"{self.dir / 'data'}/")
        conf += "user root\n" if os.geteuid() == 0 else ""
        (self.dir / "mosquitto.conf").write_text(conf)

    def url(self, user: str, pw: str | None = None) -> str:
        return f"mqtt://{user}:{pw or password(user)}@127.0.0.1:{self.port}"
