"""Memory and CPU of a process and all its descendants, from ``/proc`` (Linux).

A server with several workers is a tree of processes; its cost is the sum over the tree.
Resident sizes are summed as each process reports them, so pages shared between processes
count once per process (an upper bound).
"""

from __future__ import annotations

import os
from pathlib import Path

CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (state first), or None if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


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
    """User + system CPU seconds used so far by the living processes of the tree."""
    total_ticks = 0
    for pid in tree_pids(root):
        fields = _stat_fields(pid)
        if fields:
            total_ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return total_ticks / CLOCK_TICKS_PER_S


def tree_rss_bytes(root: int) -> int:
    """Resident bytes of the tree, summed over its processes."""
    total = 0
    for pid in tree_pids(root):
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_BYTES
        except (OSError, IndexError, ValueError):
            pass
    return total
