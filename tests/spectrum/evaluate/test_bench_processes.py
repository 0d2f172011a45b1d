"""A process tree's CPU time counts the children it has already reaped (PostgreSQL's server
processes end with their connections: their CPU must not vanish from the benchmark)."""

from __future__ import annotations

import os
import subprocess
import sys

from spectrum.evaluate.bench_processes import tree_cpu_s

BURN = "import time\nwhile time.process_time() < 0.3:\n    pass\n"  # 0.3 s of CPU, then exit


def test_tree_cpu_counts_children_that_ended():
    before = tree_cpu_s(os.getpid())
    subprocess.run([sys.executable, "-c", BURN], check=True)  # run and reaped before we look again
    assert tree_cpu_s(os.getpid()) - before >= 0.29  # clock ticks of 10 ms
