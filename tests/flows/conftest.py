from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator

import pytest

from testkit.processes import marked


@pytest.fixture
def marker() -> Iterator[str]:
    """An environment marker for the processes a test starts; none may outlive the test."""
    mark = uuid.uuid4().hex
    yield mark
    deadline = time.monotonic() + 20
    while marked(mark) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = marked(mark)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert not left, f"processes left running: {left}"
