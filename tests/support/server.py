"""Start the real app (`reflex run --env prod`) in a subprocess for browser and socket tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def migrate(db_url: str) -> None:
    """Apply the Alembic migrations to `db_url` (a real, empty database) and switch live support
    on (it is off in a new workspace): the tests' baseline."""
    run_cli(db_url, "migrate")
    run_cli(db_url, "live-support", "on")


def run_cli(db_url: str, *args: str) -> str:
    """Run `python -m handoff_app ARGS` against `db_url`; raise with its output if it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "handoff_app", *args],
        cwd=ROOT,
        env={**os.environ, "REFLEX_DB_URL": db_url},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"handoff_app {args[0]} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@dataclass
class AppServer:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def backend_url(self) -> str:
        """The backend's own address (raw-websocket tests of a backend-only app)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://localhost:{self.port}"

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_for_log(self, text: str, timeout: float = 120.0) -> None:
        """Until the server's output holds `text` (e.g. a start-up task's "ready" line)."""
        deadline = time.monotonic() + timeout
        while text not in self.log_path.read_text(errors="replace"):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"the server never printed {text!r}:\n{self.log_tail()}")
            time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL the whole group (prod workers may ignore SIGTERM)."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=8)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def start_app(
    *,
    db_url: str,
    log_path: Path,
    port: int | None = None,
    backend_only: bool = False,
    redis_url: str | None = None,
    extra_env: dict[str, str] | None = None,
    timeout: float = 600.0,
) -> AppServer:
    """Start the app on `port` and wait until it answers; raise with its log if it does not."""
    port = port or free_port()
    env = {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "REFLEX_USE_NPM": "1",
        "REFLEX_DB_URL": db_url,
        "REFLEX_TELEMETRY_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    env.pop("REFLEX_REDIS_URL", None)
    if redis_url:
        env["REFLEX_REDIS_URL"] = redis_url
    cmd = [str(VENV_BIN / "reflex"), "run", "--env", "prod", "--loglevel", "info"]
    if backend_only:
        cmd += ["--backend-only", "--backend-port", str(port)]
    else:
        cmd += ["--frontend-port", str(port)]
    log = log_path.open("wb")
    process = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    server = AppServer(process=process, port=port, log_path=log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app exited with {process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}/ping", timeout=2) as response:
                if response.status == 200 and (backend_only or _frontend_ready(server)):
                    return server
        except OSError:
            pass
        time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"app did not start within {timeout:.0f}s:\n{server.log_tail()}")


def _frontend_ready(server: AppServer) -> bool:
    try:
        with urllib.request.urlopen(f"{server.url}/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    name: str = ""


@contextlib.contextmanager
def backend_with_staff(
    db: Path,
    *,
    owner: Account,
    agents: tuple[Account, ...] = (),
    seed_demo: bool = False,
    prepare: Callable[[Path], None] | None = None,
) -> Iterator[AppServer]:
    """A migrated SQLite database at `db` with the owner and agents created through the CLI,
    served by one backend-only app process (for raw-websocket tests); `prepare` edits the
    database before the app starts."""
    url = f"sqlite:///{db}"
    migrate(url)
    if seed_demo:
        run_cli(url, "seed-demo")
    for role, account in (("owner", owner), *(("agent", a) for a in agents)):
        run_cli(
            url, f"create-{role}", "--email", account.email, "--password", account.password,
            "--name", account.name,
        )  # fmt: skip
    if prepare is not None:
        prepare(db)
    app = start_app(db_url=url, log_path=db.with_name("app.log"), backend_only=True)
    try:
        yield app
    finally:
        app.stop()


def query(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Read the app's SQLite database directly (what a test checks was, or was not, written)."""
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()
