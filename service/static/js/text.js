// Small formatting helpers shared by the views: HTML escaping and the words for data values.

import { num, t } from "./i18n.js";

export const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
export const kindText = (kind) => (kind ? t(`kind.${kind}`) : "?");
export const severityText = (sev) => (sev ? t(`severity.${sev}`) : "?");
export const stateText = (state) => t(`state.${state}`);
export const mhz = (hz) => t("unit.mhz", { v: num(hz / 1e6, 3) });
export const mhzRange = (lo, hi) => `${num(lo / 1e6, 3)}–${t("unit.mhz", { v: num(hi / 1e6, 3) })}`;

/** The event's band name (its own, or from its frequency). */
export function bandText(ev) {
  if (ev.band) return ev.band;
  return ev.kind === "sensor_fault" ? t("band.sensor") : mhz(Math.round(ev.freq_low_hz / 1e6) * 1e6);
}
