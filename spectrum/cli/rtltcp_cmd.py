"""``spectrum rtltcp SRC --port P``: serve a capture or a simulation to any rtl_tcp client."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from spectrum.cli.options import add_raw_format_options


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rtltcp", help="serve a capture or simulation over the rtl_tcp protocol",
                       description="Serve SRC to rtl_tcp clients (gqrx, SDR++, rtl_433 -d rtl_tcp:HOST:PORT, "
                                   "spectrum monitor --source rtltcp://HOST:PORT), from its start for each "
                                   "new client, paced in real time.")
    p.add_argument("src", metavar="SRC", help="a capture path (or file:PATH), or sim:SCENARIO")
    p.add_argument("--port", type=int, default=1234, help="TCP port (default 1234)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; 0.0.0.0 exposes it to the network)")
    p.add_argument("--fast", action="store_true", help="send as fast as the client reads, not in real time")
    p.add_argument("--loop", action="store_true", help="replay a capture endlessly instead of closing at its end")
    add_raw_format_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from spectrum.errors import ConfigError
    from spectrum.live.rtltcp_server import serve
    from spectrum.sources import open_source

    if not 0 <= args.port < 65536:
        raise ConfigError(f"--port {args.port}: must be 0-65535")
    spec = args.src
    if spec.startswith(("rtlsdr:", "rtltcp://")):
        raise ConfigError(f"{spec}: serve a capture or sim:SCENARIO (for a dongle, run osmocom rtl_tcp)")
    if not spec.startswith(("file:", "sim:")):
        spec = "file:" + spec
    if args.loop and spec.startswith("file:"):
        spec += ("&" if "?" in spec else "?") + "loop"

    def opener():
        return open_source(spec, realtime=False, fmt=args.fmt, sample_rate_hz=args.rate,
                           center_freq_hz=args.freq)

    opener().close()  # fail now, with one line, if the source cannot be opened
    stop = threading.Event()
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, lambda *_: stop.set())
    serve(opener, args.host, args.port, args.fast, lambda m: print(f"spectrum rtltcp: {m}", file=sys.stderr, flush=True), stop)
    return 0
