"""A real nginx + libnginx-mod-rtmp on 127.0.0.1: the stand-in for Twitch's ingest.

Every stream published to rtmp://127.0.0.1:PORT/live/<key> is recorded as
`<record_dir>/<key>*.flv`. nginx's worker runs as `nobody`, so the record directory is
world-writable and, under root, the server's directory is one `nobody` can reach (see
tests/support/nobody.py); every temp path and the pid file live in it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

from tests.support.nobody import reachable_dir, remove_if_made
from tests.support.ports import free_port, start_server, stop_server

RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")


class NginxRtmp:
    def __init__(self, workdir: Path) -> None:
        if not shutil.which("nginx") or not RTMP_MODULE.exists():
            raise RuntimeError("nginx with libnginx-mod-rtmp is not installed (scripts/setup.sh)")
        self.workdir = workdir
        self.dir = workdir = reachable_dir(workdir, "nginx")
        self.record_dir = workdir / "records"
        for sub in ("records", "tmp", "logs"):
            (workdir / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o755)
        os.chmod(self.record_dir, 0o777)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        tmp = workdir / "tmp"
        temps = "\n".join(f"  {name}_temp_path {tmp}/{name};" for name in
                          ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (workdir / "nginx.conf").write_text(f"""load_module {RTMP_MODULE};
daemon off;
master_process on;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {workdir}/logs/error.log info;
events {{ worker_connections 64; }}
http {{
  access_log off;
{temps}
}}
rtmp {{
  server {{
    listen 127.0.0.1:{self.port};
    application live {{
      live on;
      record all;
      record_path {self.record_dir};
      record_unique on;
    }}
  }}
}}
""")

    @property
    def ingest_url(self) -> str:
        """Like Twitch's rtmp://live.twitch.tv/app: the stream key is appended."""
        return f"rtmp://127.0.0.1:{self.port}/live"

    def recordings(self) -> list[Path]:
        return sorted(self.record_dir.glob("*.flv"))

    def start(self) -> NginxRtmp:
        self.proc = start_server(
            ["nginx", "-p", str(self.dir), "-c", str(self.dir / "nginx.conf")],
            self.dir / "logs" / "stdout.log", self.port)
        return self

    def stop(self) -> None:
        """SIGQUIT: a graceful stop, so nginx finishes writing the recordings."""
        stop_server(self.proc, signal.SIGQUIT)
        self.proc = None

    def remove(self) -> None:
        """Delete the server's directory (recordings too) if it was made outside `workdir`."""
        remove_if_made(self.dir, self.workdir)

    def __enter__(self) -> NginxRtmp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
