// Is the service reachable? The live stream is the heartbeat of the page: when it is not live
// for a second, or a poll failed, the desk is "down" and everything on screen is as of the last
// contact (durations frozen and marked stale, counts greyed, a banner across the page).

const GRACE_MS = 1000; // a stream that reconnects at once is not an outage

export class Connection {
  constructor() { this.stream = "connecting"; this.failingSince = null; this.pollFailed = false; }

  streamState(s) {
    this.stream = s;
    if (s === "live") { this.pollFailed = false; this.failingSince = null; }
    else if (this.failingSince === null) this.failingSince = Date.now();
  }

  poll(ok) {
    this.pollFailed = !ok;
    if (!ok && this.failingSince === null) this.failingSince = Date.now();
    if (ok && this.stream === "live") this.failingSince = null;
  }

  /** True while the service has been unreachable for longer than the grace period. */
  down(nowMs) { return this.failingSince !== null && nowMs - this.failingSince >= GRACE_MS; }

  /** The time the data on screen is current to: now, or the start of the outage. */
  asOf(nowMs) { return this.down(nowMs) ? this.failingSince : nowMs; }
}
