"""A real PostgreSQL (Debian's `postgresql` package) on 127.0.0.1 for tests; stopped by PID.

    with Postgres(tmp_path / "pg") as pg:   # initdb in its own data dir, a free port
        store = Store(pg.url)                # postgresql://radio@127.0.0.1:PORT/radio
        pg.fresh_database("other")           # another empty database, its URL

The server runs as the current user (as root: as `nobody`, which initdb requires), trusts
local connections only, and keeps no fsync (a test server; nothing outlives the test).
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.nobody import reachable_dir, remove_if_made
from tests.support.ports import free_port, start_server, stop_server

USER, DATABASE = "radio", "radio"


def pg_bin() -> Path | None:
    """Debian's versioned bin dir (newest), or wherever `initdb` is on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def missing_reason() -> str | None:
    binaries = pg_bin()
    if binaries is None or not (binaries / "postgres").exists():
        return "PostgreSQL is not installed (scripts/setup.sh installs Debian's postgresql)"
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        return "psycopg / psycopg-pool are not installed (requirements.txt)"
    return None


class Postgres:
    def __init__(self, workdir: Path) -> None:
        reason = missing_reason()
        if reason:
            raise RuntimeError(reason)
        self.bin = pg_bin()
        self.wanted = workdir
        self.dir = reachable_dir(workdir, "postgres")  # as root the server runs as nobody
        self.data = self.dir / "data"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self._as: list[str] = []
        if os.geteuid() == 0:  # postgres refuses to run as root; setpriv execs (same PID)
            self._as = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
            os.chmod(self.dir, 0o777)
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", USER, "-A", "trust",
                   "--locale=C", "-E", "UTF8", "--no-sync"])
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                       f"unix_socket_directories = '{self.dir}'\nfsync = off\n"
                       "synchronous_commit = off\nfull_page_writes = off\n"
                       "max_connections = 100\nshared_buffers = 32MB\n")

    def _run(self, args: list[str]) -> None:
        subprocess.run([*self._as, *args], check=True, capture_output=True, cwd=self.dir)

    def url_for(self, database: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    @property
    def url(self) -> str:
        return self.url_for(DATABASE)

    def start(self) -> Postgres:
        self.proc = start_server([*self._as, str(self.bin / "postgres"), "-D", str(self.data)],
                                 self.dir / "postgres.log", self.port)
        self._create(DATABASE)
        return self

    def _create(self, name: str) -> None:
        import psycopg

        deadline = time.monotonic() + 60
        while True:  # the port listens a moment before the server takes connections
            try:
                with psycopg.connect(self.url_for("postgres"), autocommit=True,
                                     connect_timeout=10) as db:
                    db.execute(f'CREATE DATABASE "{name}"')
                return
            except psycopg.OperationalError as exc:
                if "starting up" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def fresh_database(self, name: str) -> str:
        """A new empty database on this server; its URL."""
        self._create(name)
        return self.url_for(name)

    def stop(self) -> None:
        # SIGINT is PostgreSQL's "fast" shutdown (SIGTERM's "smart" one waits for clients).
        stop_server(self.proc, signal.SIGINT)
        self.proc = None
        remove_if_made(self.dir, self.wanted)

    def __enter__(self) -> Postgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- pytest fixtures (tests/conftest.py imports them) ----------------------------------------

_databases = itertools.count()


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    """One PostgreSQL for the test session, started when a test first asks for it."""
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    with Postgres(tmp_path_factory.mktemp("postgres")) as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """The test runs twice: on SQLite under data_dir (None) and on a fresh, empty
    PostgreSQL database (its URL). The `settings` fixture picks it up."""
    if request.param == "sqlite":
        return None
    server: Postgres = request.getfixturevalue("postgres_server")
    return server.fresh_database(f"test{next(_databases)}")
