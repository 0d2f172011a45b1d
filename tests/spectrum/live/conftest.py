"""Fixtures of the field sensor's tests: a tiny file system that fills up."""

from __future__ import annotations

import subprocess

import pytest


@pytest.fixture
def tiny_disk(tmp_path):
    """A 256 KB tmpfs (as a small SD card that fills up), unmounted afterwards.

    Needs the right to mount (root in a container that allows it); skipped, saying so, elsewhere.
    """
    mount_dir = tmp_path / "tiny"
    mount_dir.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_dir)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a 256 KB tmpfs here ({done.stderr.strip() or done.returncode}); "
                    "the disk-full tests need root and a kernel that allows tmpfs mounts")
    try:
        yield mount_dir
    finally:
        subprocess.run(["umount", "-l", str(mount_dir)], capture_output=True)
