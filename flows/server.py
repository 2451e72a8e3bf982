"""A real Prefect server on this machine, started and stopped from Python.

Needed where the temporary (ephemeral) API is not enough: schedules only fire on a real server, and
work-pool workers and Dask workers must all report to one. No Prefect import here: the server's URL
has to be in the environment before Prefect is imported.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def prefect_command() -> list[str]:
    """The `prefect` CLI of this environment (the venv's, not whatever is first on PATH)."""
    exe = Path(sys.executable).with_name("prefect")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("prefect")
    return [found] if found else [sys.executable, "-m", "prefect"]


def kill_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop a process started with `start_new_session=True` and everything it started."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
        except ProcessLookupError:
            return
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # leftovers of the group (the leader may be gone already)
    except ProcessLookupError:
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass


def wait_healthy(api_url: str, proc: subprocess.Popen | None = None, timeout: float = 90.0) -> None:
    """Wait until `api_url`/health answers; raise if the server process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"prefect server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(api_url + "/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"prefect server at {api_url} not healthy after {timeout:g} s")


def prefect_home() -> Path:
    """Where Prefect keeps its database, logs and profiles: env PREFECT_HOME, else ~/.prefect."""
    return Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser()


def make_private(home: str | Path | None = None) -> Path:
    """Make Prefect's home (created if missing) and everything in it this user's only.

    Its database holds every flow run's parameters and logs; its profiles may hold an API auth
    string. Links are not followed, and what belongs to another user is left alone.
    """
    home = Path(home) if home is not None else prefect_home()
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    uid = os.geteuid()
    for path in [home, *home.rglob("*")]:
        try:
            st = path.lstat()
        except FileNotFoundError:  # e.g. a SQLite journal that came and went
            continue
        if st.st_uid != uid or stat.S_ISLNK(st.st_mode):
            continue
        mode = 0o700 if stat.S_ISDIR(st.st_mode) else 0o600
        if stat.S_IMODE(st.st_mode) & ~mode:
            os.chmod(path, stat.S_IMODE(st.st_mode) & mode)
    return home


def api_auth_string() -> str:
    """The basic-auth string ("user:password") for a Prefect API this process starts: the configured
    one (PREFECT_API_AUTH_STRING), else a new random one, put into the environment for the clients
    this process and its children start."""
    auth = os.environ.get("PREFECT_API_AUTH_STRING")
    if not auth:
        auth = os.environ["PREFECT_API_AUTH_STRING"] = f"pipeline:{secrets.token_urlsafe(24)}"
    return auth


def protected_server_env(auth: str, origin: str | None) -> dict[str, str]:
    """Prefect's own API protection, as the server process reads it: basic auth on every route but the
    health check, cross-origin requests only from `origin` (the server's own UI; None: from nowhere),
    and CSRF tokens for state-changing requests."""
    return {
        "PREFECT_SERVER_API_AUTH_STRING": auth,
        # "" allows no origin at all; "*" (Prefect's default) lets any web page in a local browser drive it
        "PREFECT_SERVER_API_CORS_ALLOWED_ORIGINS": origin or "",
        "PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED": "true",
    }


@contextmanager
def local_server(
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    home: str | Path | None = None,
    ui: bool = True,
    log_file: str | Path | None = None,
    timeout: float = 90.0,
    auth_string: str | None = None,
) -> Iterator[str]:
    """Run `prefect server start` in its own process group; yields the API URL; stops the group after.

    `home` becomes the server's PREFECT_HOME (its SQLite database lives there), unless
    PREFECT_API_DATABASE_CONNECTION_URL points it at PostgreSQL. Without `home` the usual PREFECT_HOME
    is used, so run history survives a restart. Either way it is made this user's only, and so is
    every file the server writes. With `auth_string` the API asks for it (`protected_server_env`);
    clients need it in PREFECT_API_AUTH_STRING.
    """
    port = port or free_port(host)
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)  # the server must not think it is a client of another one
    if home is not None:
        env["PREFECT_HOME"] = str(home)
    make_private(env.get("PREFECT_HOME") or prefect_home())
    if auth_string:
        env.update(protected_server_env(auth_string, f"http://{host}:{port}"))
    cmd = [*prefect_command(), "server", "start", "--host", host, "--port", str(port)]
    if not ui:
        cmd.append("--no-ui")
    # The UI's pages call the API at this address; left alone they would call port 4200.
    env["PREFECT_UI_API_URL"] = f"http://{host}:{port}/api"
    log_path = (
        Path(log_file) if log_file else Path(tempfile.mkstemp(prefix="prefect-server-", suffix=".log")[1])
    )
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True,
            umask=0o077,  # its database and logs: this user's only
        )  # fmt: skip
    api_url = f"http://{host}:{port}/api"
    try:
        try:
            wait_healthy(api_url, proc, timeout)
        except (RuntimeError, TimeoutError) as exc:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{exc}; its log ({log_path}) ends:\n{tail}") from exc
        yield api_url
    finally:
        kill_group(proc)
        if not log_file:
            log_path.unlink(missing_ok=True)
