"""Fixtures every test folder may use: a real, private PostgreSQL server, and a record store on each
backend the learning record supports.

`PrivatePostgres` runs Debian's PostgreSQL binaries (`/usr/lib/postgresql/<version>/bin`, any version) on
a cluster made with `initdb` in a temporary folder, listening on a unix socket in that folder only (no TCP
port, nothing another user of the machine can reach). PostgreSQL refuses to run as root, so as root (CI)
the cluster belongs to and runs as the `postgres` system user the Debian package creates; as an ordinary
user it runs as that user. `benchmarks/records.py` starts its server with the same class.

Where the binaries or psycopg are missing, the PostgreSQL tests skip with the reason; `.ci/run` installs
both, so in CI none skip.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

__all__ = ["PrivatePostgres", "postgres_binaries", "postgres_unavailable"]

BACKENDS = ("sqlite", "postgresql")


def postgres_binaries() -> Path | None:
    """The newest Debian PostgreSQL `bin` folder with initdb and postgres, or None."""
    found = []
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        folder = Path(initdb).parent
        try:
            version = int(folder.parent.name)
        except ValueError:
            continue
        if (folder / "postgres").is_file():
            found.append((version, folder))
    return max(found)[1] if found else None


def postgres_unavailable() -> str | None:
    """Why a private PostgreSQL server cannot be started here, in one line, or None when it can."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'psycopg[binary]')"
    if postgres_binaries() is None:
        return "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin; apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` system user to run the server as"
    return None


class PrivatePostgres:
    """A PostgreSQL cluster of its own in a temporary folder, reachable only through its unix socket.

        with PrivatePostgres() as server:
            url = server.create_database()      # postgresql+psycopg://postgres@/db_…?host=…

    `durable=False` (the tests) turns off fsync and synchronous commit: a crash of the test machine loses
    nothing anyone needs, and each CREATE DATABASE is quicker. The benchmark keeps the defaults.
    """

    def __init__(self, durable: bool = True, max_connections: int = 200):
        reason = postgres_unavailable()
        if reason:
            raise RuntimeError(reason)
        self.bin = postgres_binaries()
        self.durable = durable
        self.max_connections = max_connections
        self.root = Path(tempfile.mkdtemp(prefix="dangxiao-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.log_path = self.root / "postgres.log"
        self.port = 5432  # the socket is in a private folder, so the usual port number clashes with nothing
        self.process: subprocess.Popen | None = None
        self._as_postgres = os.geteuid() == 0

    # -- running the server's programs as the right user -----------------------------------------------
    def _run_kwargs(self) -> dict:
        if not self._as_postgres:
            return {}
        return {"user": "postgres", "group": "postgres", "extra_groups": [], "cwd": self.root,
                "env": {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(self.root)}}

    def start(self) -> "PrivatePostgres":
        self.socket_dir.mkdir()
        if self._as_postgres:
            entry = pwd.getpwnam("postgres")
            for path in (self.root, self.socket_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        os.chmod(self.root, 0o700)
        initdb = subprocess.run(
            [str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
             "-E", "UTF8", "--locale=C", "--no-instructions"],
            capture_output=True, text=True, **self._run_kwargs())
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed: {(initdb.stderr or initdb.stdout).strip()[-500:]}")
        settings = {
            "listen_addresses": "",
            "unix_socket_directories": str(self.socket_dir),
            "port": str(self.port),
            "max_connections": str(self.max_connections),
        }
        if not self.durable:
            settings.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        command = [str(self.bin / "postgres"), "-D", str(self.data)]
        for key, value in settings.items():
            command += ["-c", f"{key}={value}"]
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, **self._run_kwargs())
        finally:
            log.close()
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 60.0) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.process.returncode}: {self.log_tail()}")
            try:
                psycopg.connect(self.conninfo("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"postgres did not accept connections in {timeout:g} s: {self.log_tail()}")
                time.sleep(0.1)

    def log_tail(self, chars: int = 600) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:].strip()
        except OSError:
            return ""

    # -- addresses -------------------------------------------------------------------------------------
    def conninfo(self, database: str) -> str:
        return f"host={self.socket_dir} port={self.port} user=postgres dbname={database}"

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of one database of this server (psycopg 3 driver, unix socket)."""
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as connection:
            connection.execute(statement)

    def create_database(self, name: str | None = None) -> str:
        """A new, empty database (from template0); returns its URL."""
        name = name or f"db_{uuid.uuid4().hex[:12]}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\'')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    # -- stopping --------------------------------------------------------------------------------------
    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown: ends sessions, checkpoints, exits
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "PrivatePostgres":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@pytest.fixture(scope="session")
def postgres_server():
    """One private PostgreSQL server for the whole test session (skips where none can be started)."""
    reason = postgres_unavailable()
    if reason:
        pytest.skip(reason)
    server = PrivatePostgres(durable=False).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server) -> str:
    """The SQLAlchemy URL (`postgresql+psycopg://…`) of a database made for this test session."""
    return postgres_server.create_database("dangxiao_session")


@pytest.fixture
def postgres_database(postgres_server) -> str:
    """A new, empty PostgreSQL database for one test (the session's `postgres_url` is shared: a roster
    imported there by one test would keep its passwords for the next)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = postgres_server.create_database(name)
    yield url
    postgres_server.drop_database(name)


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    """An empty database of its own for one test: an SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'records.sqlite'}"
        return
    server = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = server.create_database(name)
    yield url
    server.drop_database(name)  # WITH (FORCE): a connection a test left open does not keep it


@pytest.fixture
def record_store(database_url):
    """`open_store(url)` on a clean database of each backend, migrated to the newest schema."""
    from dangxiao.records import open_store

    store = open_store(database_url)
    yield store
    store.engine.dispose()


@pytest.fixture(autouse=True, scope="session")
def private_data_folder(tmp_path_factory):
    """No test reads or writes the checkout's `data/` (where a developer's real record store and account
    sheets live) or a record store named by the caller's `$DANGXIAO_DB`: commands the tests run, in this
    process or as children, default to an empty folder of their own."""
    saved = {name: os.environ.get(name) for name in ("DANGXIAO_DATA", "DANGXIAO_DB")}
    os.environ["DANGXIAO_DATA"] = str(tmp_path_factory.mktemp("dangxiao-data"))
    os.environ.pop("DANGXIAO_DB", None)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
