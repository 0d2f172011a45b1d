"""The ``spectrum`` command: results on stdout, logs and progress on stderr.

Exit codes: 0 ok, 1 runtime failure, 2 bad input or usage — with one line on stderr naming
the file or option and what is wrong; a traceback only with ``--debug``.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import traceback
from collections.abc import Sequence

# One BLAS thread unless the user chose a number: no command does BLAS work big enough for a
# thread pool (vector dot products, SVDs of a few points), and OpenBLAS starts its pool when
# NumPy is imported, 0.05-0.1 s of every command's start-up on a 2-core host. Set here, before
# the commands below import NumPy.
if not any(os.environ.get(name) for name in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")):
    os.environ["OPENBLAS_NUM_THREADS"] = "1"

from spectrum import __version__
from spectrum.cli import (bench_cmd, bench_detect_cmd, bench_service_cmd, db_cmd, demo_cmd, monitor_cmd, replay_cmd,
                          report_cmd, rtltcp_cmd, serve_cmd, simulate_cmd, token_cmd)
from spectrum.cli import convert_cmd, export_csv_cmd, plot_cmd, record_cmd, verify_cmd  # capture commands
from spectrum.cli import bench_location_cmd, calibrate_cmd  # the fleet (issue 17)
from spectrum.cli import incidents_cmd  # issue 14

COMMANDS = (replay_cmd, simulate_cmd, monitor_cmd, rtltcp_cmd, bench_cmd, bench_detect_cmd, serve_cmd, token_cmd,
            db_cmd, bench_service_cmd, record_cmd, convert_cmd, plot_cmd, verify_cmd, export_csv_cmd, demo_cmd,
            report_cmd, bench_location_cmd, calibrate_cmd, incidents_cmd)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spectrum",
        description="Find radio jamming and interference in RTL-SDR streams and IQ captures.",
    )
    parser.add_argument("--version", action="version", version=f"spectrum {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command in ``argv`` (default: the command line) and return its exit code."""
    code = _run(argv)
    if argv is None:
        # Called as the program (the `spectrum` script, `python -m spectrum`): the process exits
        # next. Frozen objects are left out of the garbage collections of the interpreter's exit,
        # which otherwise walk all of numba's objects: about 0.2 s of every command.
        gc.freeze()
    return code


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # usage errors exit 2 with argparse's one-line message
    from spectrum.errors import USER_ERRORS

    try:
        return int(args.run(args) or 0)
    except USER_ERRORS as exc:
        if args.debug:
            traceback.print_exc()
        print(f"spectrum {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"spectrum {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0  # e.g. `spectrum replay ... | head`
    except Exception as exc:  # a bug or an environment failure: say so, keep the trace for --debug
        if args.debug:
            traceback.print_exc()
        print(f"spectrum {args.command}: failed: {type(exc).__name__}: {exc} (rerun with --debug for details)", file=sys.stderr)
        return 1
