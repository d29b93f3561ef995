"""Worker processes started together: each reports "ready", all get "go" at once, each ends
by printing a JSON summary as its last line."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from typing import Any

__all__ = ["go_together"]


def go_together(
    processes: Sequence[subprocess.Popen[str]], *, timeout: float = 300
) -> list[dict[str, Any]]:
    """Wait until every process said "ready", send each "go", and return their summaries in
    order; a process still running when this ends (a failure) is killed."""
    try:
        for process in processes:
            assert process.stdout is not None
            ready = process.stdout.readline().strip()
            assert ready == "ready", process.communicate()[1][-3000:]
        for process in processes:  # all at once
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        summaries = []
        for process in processes:
            out, err = process.communicate(timeout=timeout)
            assert process.returncode == 0, err[-3000:]
            summaries.append(json.loads(out.strip().splitlines()[-1]))
        return summaries
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
