"""``spectrum verify FILE``: recompute a capture's stored hashes.

Exit 0 with one ``OK`` line when every stored hash matches; exit 1 with one ``FAILED`` line
naming what changed (or that there is nothing to check against); exit 2 if the file cannot be
read at all (missing, truncated or corrupt HDF5, not a capture).
"""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="check a capture's integrity hashes",
                       description="Recompute the SHA-256 hashes of an HDF5 capture (IQ, waterfall, "
                       "events and metadata) or the core:sha512 of a SigMF recording.")
    p.add_argument("path", metavar="FILE", help=".h5/.hdf5 capture or .sigmf-meta recording")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from captures.integrity import verify_capture

    report = verify_capture(args.path)
    if report.ok:
        note = f" ({report.notes[0]})" if report.notes else ""
        print(f"{report.path}: OK: {', '.join(report.checked)} match{note}")
        return 0
    print(f"spectrum verify: {report.path}: INTEGRITY FAILED: {'; '.join(report.problems)}", file=sys.stderr)
    return 1
