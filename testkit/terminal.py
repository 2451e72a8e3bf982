"""Run a command with its standard error on a pseudo-terminal, as a user's terminal would be.

What a command draws only on a terminal (a progress bar) is then seen by a test without any timing:
the output is read until the command ends and its end of the terminal closes.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
from collections.abc import Sequence
from pathlib import Path

_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def run_on_terminal(
    cmd: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
    timeout: float = 600,
) -> tuple[int, str, str]:
    """(exit code, standard output (a pipe), what it wrote to the terminal, its standard error)."""
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    env = {**(env if env is not None else os.environ), "TERM": "xterm-256color", "COLUMNS": "160"}
    env.pop("PIPELINE_PROGRESS", None)  # the terminal decides, not a setting left in the environment
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, env=env, cwd=cwd
    )
    os.close(slave)  # the child holds its end; reading gives EIO once it has closed it
    chunks: list[bytes] = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                proc.kill()
                raise TimeoutError(f"{cmd[0]}: no output for {timeout:g} s")
            try:
                data = os.read(master, 1 << 16)
            except BlockingIOError:
                continue
            except OSError:  # EIO: every holder of the terminal's other end has closed it
                break
            if not data:
                break
            chunks.append(data)
        out = proc.stdout.read().decode() if proc.stdout else ""
        code = proc.wait(timeout)
    finally:
        os.close(master)
        if proc.stdout:
            proc.stdout.close()
    return code, out, b"".join(chunks).decode("utf-8", "replace")


def plain(terminal_text: str) -> str:
    """The text without the escape sequences and carriage returns a bar redraws itself with."""
    return _ESCAPES.sub("", terminal_text).replace("\r\n", "\n").replace("\r", "\n")
