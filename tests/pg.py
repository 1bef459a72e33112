"""A throwaway PostgreSQL cluster for the test session, from the installed server binaries.

``initdb`` refuses to run as root, so as root the cluster is made and run as the ``postgres`` user.
Each test gets its own database cloned from a migrated template (fast, and fully isolated).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="kanban-pg-"))
        self.port = _free_port()
        self.user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
        self.proc: subprocess.Popen[bytes] | None = None

    def _run(self, args: list[str]) -> None:
        if os.geteuid() == 0:
            args = ["runuser", "-u", "postgres", "--", *args]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> None:
        initdb, postgres = _bin("initdb"), _bin("postgres")
        if not initdb or not postgres:
            raise RuntimeError("PostgreSQL server binaries not found (install the postgresql package)")
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        data = self.dir / "data"
        self._run([initdb, "-D", str(data), "-U", self.user, "-A", "trust", "--no-sync", "-E", "UTF8"])
        self._launch()

    def _launch(self) -> None:
        postgres = _bin("postgres")
        assert postgres
        data = self.dir / "data"
        args = [postgres, "-D", str(data), "-p", str(self.port), "-k", str(self.dir),
                "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off", "-c", "max_connections=300"]
        if os.geteuid() == 0:
            args = ["runuser", "-u", "postgres", "--", *args]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.admin_dsn("postgres"), connect_timeout=1).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("PostgreSQL did not start") from None
                time.sleep(0.1)

    def shut_down(self) -> None:
        """Stop the server as an operator's restart does (fast shutdown: sessions are cut), and
        wait until it is gone (its pid file removed) so the port is free again."""
        assert self.proc is not None
        pid_file = self.dir / "data" / "postmaster.pid"
        postmaster = int(pid_file.read_text().split()[0])
        os.kill(postmaster, signal.SIGINT)  # SIGTERM would wait for every session to end
        deadline = time.monotonic() + 30
        while pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.proc.wait(30)

    def start_again(self) -> None:
        """Start the same cluster after :meth:`shut_down`; returns once it accepts connections."""
        self._launch()

    def admin_dsn(self, db: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={self.user} dbname={db}"

    def url(self, db: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class PgDatabases:
    """Hands out fresh databases cloned from one migrated template."""

    def __init__(self, base_url: str | None, cluster: PgCluster | None) -> None:
        self.cluster = cluster
        self.base_url = base_url
        self.template: str | None = None

    def _admin(self) -> psycopg.Connection:
        if self.cluster:
            return psycopg.connect(self.cluster.admin_dsn("postgres"), autocommit=True)
        assert self.base_url
        return psycopg.connect(self.base_url.replace("postgresql+psycopg://", "postgresql://"),
                               autocommit=True)

    def _url(self, db: str) -> str:
        if self.cluster:
            return self.cluster.url(db)
        assert self.base_url
        return self.base_url.rsplit("/", 1)[0] + "/" + db

    def new_url(self, migrated: bool = True) -> str:
        name = "t_" + uuid.uuid4().hex[:12]
        with self._admin() as conn:
            if migrated:
                if self.template is None:
                    self.template = "kanban_template_" + uuid.uuid4().hex[:6]
                    conn.execute(f'CREATE DATABASE "{self.template}"')
                    from agentkanban.store.engine import open_store
                    from agentkanban.store.migrate import ensure_current

                    store = open_store(self._url(self.template))
                    ensure_current(store)
                    store.dispose()
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
            else:
                conn.execute(f'CREATE DATABASE "{name}"')
        return self._url(name)
