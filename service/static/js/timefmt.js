// Times for the desk: ISO-like dates (2024-02-14 07:05), 24 h, in a named IANA zone, with
// Indonesia's zone names (WIB, WITA, WIT); durations from the language's catalogue.

import { t } from "./i18n.js";

const ABBR = { "Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT" };
const formatters = new Map();

const memo = new Map(); // (zone, second) -> parts: the views format the same seconds over and over
function parts(ms, tz) {
  const key = `${tz} ${Math.floor(ms / 1000)}`;
  let out = memo.get(key);
  if (!out) {
    if (memo.size > 20000) memo.clear();
    out = formatParts(ms, tz);
    memo.set(key, out);
  }
  return out;
}

function formatParts(ms, tz) {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
    formatters.set(tz, f);
  }
  const out = {};
  for (const p of f.formatToParts(ms)) out[p.type] = p.value;
  return out;
}

/** The zone's short name: WIB / WITA / WIT in Indonesia, else what the browser calls it (GMT+7). */
export function zoneName(tz) {
  if (ABBR[tz]) return ABBR[tz];
  if (tz === "UTC" || tz === "Etc/UTC") return "UTC";
  const p = new Intl.DateTimeFormat("en", { timeZone: tz, timeZoneName: "short" }).formatToParts(Date.now());
  return (p.find((x) => x.type === "timeZoneName") || {}).value || tz;
}

/** "07:05:09" in ``tz``. */
export function hms(ms, tz) { const p = parts(ms, tz); return `${p.hour}:${p.minute}:${p.second}`; }
/** "07:05" in ``tz``. */
export function hm(ms, tz) { const p = parts(ms, tz); return `${p.hour}:${p.minute}`; }
/** "2024-02-14 07:05" in ``tz``. */
export function dateHm(ms, tz) { const p = parts(ms, tz); return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`; }
/** The time alone when ``ms`` is today in ``tz`` (relative to ``nowMs``), else date and time. */
export function dayHm(ms, tz, nowMs) {
  const a = parts(ms, tz), b = parts(nowMs, tz);
  return a.year === b.year && a.month === b.month && a.day === b.day ? `${a.hour}:${a.minute}:${a.second}` : dateHm(ms, tz);
}
/** Whether two zones show the same wall-clock time at ``ms``. */
export function sameOffset(tzA, tzB, ms) { return tzA === tzB || hm(ms, tzA) === hm(ms, tzB); }

const pad = (n) => String(n).padStart(2, "0");
/** A duration in the language's units: "45 s", "3 min 05 s", "2 h 07 min", "1 d 4 h". */
export function dur(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return t("dur.s", { s: String(s) });
  if (s < 3600) return t("dur.ms", { m: String(Math.floor(s / 60)), s: pad(s % 60) });
  if (s < 86400) return t("dur.hm", { h: String(Math.floor(s / 3600)), m: pad(Math.floor((s % 3600) / 60)) });
  return t("dur.dh", { d: String(Math.floor(s / 86400)), h: String(Math.floor((s % 86400) / 3600)) });
}
