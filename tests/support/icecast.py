"""A real icecast2 on 127.0.0.1 for tests: one source password, stopped by PID.

Icecast refuses to run as root, so under root it drops to `nobody` (changeowner), and
its log directory is made writable for that user.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request
from pathlib import Path
from xml.sax.saxutils import escape

from tests.support.nobody import reachable_dir, remove_if_made
from tests.support.ports import free_port, start_server, stop_server

SOURCE_PASSWORD = "test-source-secret"
ADMIN_PASSWORD = "test-admin-secret"
WEB_ROOT = Path("/usr/share/icecast2")


class Icecast:
    def __init__(self, workdir: Path) -> None:
        if not shutil.which("icecast2"):
            raise RuntimeError("icecast2 is not installed (scripts/setup.sh installs it)")
        self.workdir = workdir
        self.dir = reachable_dir(workdir, "icecast")
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        logs = self.dir / "log"
        logs.mkdir(exist_ok=True)
        owner = ""
        if os.geteuid() == 0:
            os.chmod(self.dir, 0o755)
            os.chown(logs, 65534, 65534)
            owner = "<changeowner><user>nobody</user><group>nogroup</group></changeowner>"
        (self.dir / "icecast.xml").write_text(f"""<icecast>
  <location>test</location><admin>test@localhost</admin>
  <limits><clients>20</clients><sources>4</sources><queue-size>524288</queue-size>
    <client-timeout>30</client-timeout><header-timeout>15</header-timeout>
    <source-timeout>10</source-timeout><burst-size>65535</burst-size></limits>
  <authentication>
    <source-password>{escape(SOURCE_PASSWORD)}</source-password>
    <admin-user>admin</admin-user><admin-password>{escape(ADMIN_PASSWORD)}</admin-password>
  </authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>{self.port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <fileserve>1</fileserve>
  <paths><basedir>{WEB_ROOT}</basedir><logdir>{logs}</logdir>
    <webroot>{WEB_ROOT / 'web'}</webroot><adminroot>{WEB_ROOT / 'admin'}</adminroot></paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog>
    <loglevel>3</loglevel></logging>
  <security><chroot>0</chroot>{owner}</security>
</icecast>
""")

    def url(self, mount: str = "/radio.mp3") -> str:
        """The listeners' URL of a mount."""
        return f"http://127.0.0.1:{self.port}{mount}"

    def source_url(self, mount: str = "/radio.mp3") -> str:
        """icecast:// URL without the password (the station reads it from settings)."""
        return f"icecast://127.0.0.1:{self.port}{mount}"

    def status(self) -> dict:
        """/status-json.xsl: the server's mounts and listeners."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/status-json.xsl",
                                    timeout=5) as reply:
            return json.loads(reply.read().decode("utf-8", "replace"))

    def sources(self) -> list[dict]:
        """The mounts with a source; [] while the server is not answering properly
        (its status-json.xsl does not escape every string, so its JSON can be broken)."""
        try:
            source = self.status().get("icestats", {}).get("source", [])
        except (OSError, ValueError):
            return []
        return source if isinstance(source, list) else [source]

    def start(self) -> Icecast:
        self.proc = start_server(["icecast2", "-c", str(self.dir / "icecast.xml")],
                                 self.dir / "stdout.log", self.port)
        return self

    def stop(self) -> None:
        stop_server(self.proc)
        self.proc = None

    def remove(self) -> None:
        """Delete the server's directory if it was made outside `workdir`."""
        remove_if_made(self.dir, self.workdir)

    def __enter__(self) -> Icecast:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.remove()
