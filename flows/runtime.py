"""Which Prefect API a command talks to, how long it waits for it, and how it stops on a signal.

No Prefect import here: all of it has to be settled before Prefect is imported (it reads its settings
once).

* `PREFECT_API_URL` set: that API, untouched.
* else a server started by `pipeline server start` and still healthy: reused. A run then costs the
  client's own start-up only, not a server's (a minute on a busy machine).
* else Prefect's temporary (ephemeral) API, with a start-up timeout the project sets generously
  (`settings.PREFECT_STARTUP_TIMEOUT`; Prefect's own 20 s fails on a busy 2-core machine), unless
  `PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS` says otherwise.

SIGTERM and SIGINT stop a batch the same way: the extraction workers are killed, the flow unwinds
(files in flight get no status: the next run ingests them), and the temporary API is stopped by
Prefect's exit handler, which a plain SIGTERM would skip, leaving its server behind.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline import settings

from .server import kill_group, prefect_command, wait_healthy

TIMEOUT_ENV = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
HOME_ENV = "PIPELINE_SERVER_HOME"
DEFAULT_PORT = 4200


def server_home() -> Path:
    """Where `pipeline server` keeps its state, its log and the server's own PREFECT_HOME."""
    return Path(os.environ.get(HOME_ENV) or Path.home() / ".prefect" / "pipeline-server").expanduser()


def _state_file() -> Path:
    return server_home() / "server.json"


def _healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(api_url + "/health", timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


def running_server() -> dict | None:
    """The server `pipeline server start` left running ({"api", "pid", …}), if it still answers."""
    try:
        state = json.loads(_state_file().read_text())
        os.kill(int(state["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state if _healthy(state["api"]) else None


def use_server(state: dict) -> None:
    """Point this process (and the workers it starts) at the lasting server, with its auth string."""
    os.environ["PREFECT_API_URL"] = state["api"]
    auth_file = Path(state.get("auth_file") or "")
    if auth_file.is_file():
        os.environ["PREFECT_API_AUTH_STRING"] = auth_file.read_text().strip()


def choose_api() -> str:
    """Settle the API before Prefect is imported; returns which: "configured", "reused" or "temporary"."""
    if os.environ.get("PREFECT_API_URL"):
        return "configured"
    state = running_server()
    if state is not None:
        use_server(state)
        return "reused"
    os.environ.setdefault(TIMEOUT_ENV, str(settings.PREFECT_STARTUP_TIMEOUT))
    return "temporary"


def startup_failure(exc: BaseException) -> str | None:
    """What to tell the user when `exc` is Prefect's API failing to start or answer; None otherwise."""
    text = str(exc)
    if "ephemeral Prefect API server" in text or "Timed out while attempting to connect" in text:
        waited = os.environ.get(TIMEOUT_ENV, "20")
        return (
            f"Prefect's temporary API did not start within {waited} s (a busy machine?). Start a lasting "
            "local one once with `pipeline server start` (every later command reuses it; "
            f"`pipeline server stop` ends it), or allow more time: {TIMEOUT_ENV}=600"
        )
    if "Cannot connect to" in text or "ConnectError" in type(exc).__name__:
        return f"the Prefect API at {os.environ.get('PREFECT_API_URL')} does not answer ({text[:200]})"
    return None


def process_age() -> float | None:
    """Seconds since this process started (Linux), so that a summary's wall time counts its imports too."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")


# -- `pipeline server start|stop` ----------------------------------------------------------------------


def start_server(port: int = DEFAULT_PORT, host: str = "127.0.0.1", timeout: float = 300.0) -> dict:
    """Start a lasting local Prefect server (with its UI) in the background; returns its state.

    Already running: returned as it is. The server keeps running after this process ends, until
    `stop_server`; its run history lives in `server_home()`.
    """
    state = running_server()
    if state is not None:
        return {**state, "already": True}
    home = server_home()
    home.mkdir(parents=True, exist_ok=True)
    api = f"http://{host}:{port}/api"
    if _healthy(api, timeout=1):
        raise RuntimeError(
            f"another server answers at {api}; use it with PREFECT_API_URL={api}, or pass --port"
        )
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_HOME": str(home / "prefect"),
           "PREFECT_UI_API_URL": api}  # fmt: skip
    env.pop("PREFECT_API_URL", None)
    # protected as the servers `ingest` and `serve` start are (docs/security.md): basic auth, CORS from its
    # own UI only, CSRF; the auth string in a file only this user reads, for the commands that reuse it
    from flows.server import protected_server_env

    auth = os.environ.get("PREFECT_API_AUTH_STRING") or f"pipeline:{secrets.token_urlsafe(24)}"
    env.update(protected_server_env(auth, api.removesuffix("/api")))
    auth_file = home / "api-auth"
    auth_file.unlink(missing_ok=True)
    fd = os.open(auth_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(auth + "\n")
    log = home / "server.log"
    cmd = [*prefect_command(), "server", "start", "--host", host, "--port", str(port)]
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)  # fmt: skip
    try:
        wait_healthy(api, proc, timeout)
    except (RuntimeError, TimeoutError) as exc:
        kill_group(proc)
        tail = log.read_text(errors="replace")[-1500:]
        raise RuntimeError(f"{exc}; its log ({log}) ends:\n{tail}") from exc
    state = {"api": api, "ui": api.removesuffix("/api"), "pid": proc.pid, "log": str(log), "started": time.time(),
             "auth_file": str(auth_file)}  # fmt: skip
    _state_file().write_text(json.dumps(state))
    return state


def stop_server(grace: float = 10.0) -> dict | None:
    """Stop the server `start_server` started (its whole process group); returns its state, or None."""
    try:
        state = json.loads(_state_file().read_text())
        pid = int(state["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            os.killpg(pid, 0)
            time.sleep(0.2)
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _state_file().unlink(missing_ok=True)
    return state


# -- signals -------------------------------------------------------------------------------------------


class Stopped(KeyboardInterrupt):
    """The command got SIGTERM or SIGINT; `signum` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def stop_on_signals(on_stop: Callable[[], None]) -> Iterator[None]:
    """While inside: SIGTERM and SIGINT call `on_stop()` (kill the workers) and raise Stopped here.

    Raising lets Python unwind normally, so exit handlers run (Prefect's stops its temporary
    server). Later signals during the unwinding are ignored: a second one would cut that short.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = False

    def handler(signum: int, _frame: object) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        try:
            on_stop()
        finally:
            raise Stopped(signum)

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
