"""What the benchmarks read of the processes they start: a free loopback port to start a server
on, and a process's (or a process tree's) CPU time and memory from ``/proc`` (Linux).

A server with several workers is a tree of processes; its cost is the sum over the tree.
Resident sizes are summed as each process reports them, so pages shared between processes
count once per process (an upper bound).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (the caller binds it soon after)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (state first), or None if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process so far (0 once it is gone)."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_S if fields else 0.0  # utime, stime


def process_status_mb(pid: int, key: str = "VmRSS") -> float:
    """A memory line of ``/proc/PID/status`` in MB (``VmRSS`` resident now, ``VmHWM`` its peak);
    0 when the process or the line is missing."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0.0
    for line in lines:
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def tree_pids(root: int) -> list[int]:
    """``root`` and every living descendant of it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def tree_cpu_s(root: int) -> float:
    """User + system CPU seconds used so far by the tree: its living processes, and the children
    they have reaped (PostgreSQL's server processes that ended, e.g. one per closed connection)."""
    return sum(_cpu_with_reaped_s(pid) for pid in tree_pids(root))


def _cpu_with_reaped_s(pid: int) -> float:
    fields = _stat_fields(pid)
    return sum(int(f) for f in fields[11:15]) / CLOCK_TICKS_PER_S if fields else 0.0  # utime, stime, cutime, cstime


def tree_rss_bytes(root: int) -> int:
    """Resident bytes of the tree, summed over its processes."""
    total = 0
    for pid in tree_pids(root):
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_BYTES
        except (OSError, IndexError, ValueError):
            pass
    return total
