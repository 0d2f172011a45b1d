// The site list: every site with its state in words and a shape (never colour alone), its
// sensors, when it was last heard, its local time where the zone differs from the desk's,
// and what jams it since when.

import { t } from "./i18n.js";
import { dayHm, dur, hm, sameOffset, zoneName } from "./timefmt.js";
import { bandText, esc, kindText, severityText, stateText } from "./text.js";

function heard(s, vc) {
  if (s.lastHeardMs == null) return t("sites.never");
  if (s.status === "offline") return t("sites.lastHeard", { time: `${dayHm(s.lastHeardMs, vc.tz, vc.realNow)} ${vc.zone}` });
  return t("sites.heard", { ago: dur(Math.max(0, vc.now - s.lastHeardMs)) });
}

function jamLine(o, vc) {
  if (!o) return "";
  const since = t("sites.since", { time: `${dayHm(o.since, vc.tz, vc.realNow)} ${vc.zone}` });
  const more = (o.count > 1 ? ` · ${t("sites.ongoing", { n: o.count })}` : "") + (o.attention ? ` · ⚠ ${t("sites.unacknowledged")}` : "");
  const running = dur(vc.now - o.since);
  return `<div class="jam"><b>${esc(severityText(o.worst))}</b> · ${esc(kindText(o.event.kind))} · ${esc(bandText(o.event))}` +
    ` · ${esc(since)} (<span class="dur${vc.stale ? " stale" : ""}">${esc(running)}</span>)${esc(more)}</div>`;
}

// A sensor whose clock is more than 1 s off the desk's (the desk corrects its event times).
function clockNote(s) {
  return s.clockSuspect && s.clockSuspect.length ? ` · ⚠ ${t("sites.clockOff", { sensors: s.clockSuspect.join(", ") })}` : "";
}

function localTime(s, vc) {
  if (!s.tz || sameOffset(s.tz, vc.tz, vc.realNow)) return "";
  return ` · ${t("sites.localTime", { time: `${hm(vc.realNow, s.tz)} ${zoneName(s.tz)}` })}`;
}

/** HTML of the site tiles (``states`` from sitestate.siteStates, worst first): the first
 * ``max``, the selected site always among them, and a line saying how many more. */
export function sitesHTML(states, vc, selectedSite, max) {
  const html = [];
  let shown = states.slice(0, max);
  if (selectedSite && !shown.some((s) => s.site === selectedSite)) shown = [...states.filter((s) => s.site === selectedSite), ...shown];
  for (const s of shown) {
    const name = s.name && s.name !== s.site ? `${s.name} (${s.site})` : s.site;
    html.push(`<div class="site st-${esc(s.state)}${selectedSite === s.site ? " selected" : ""}" role="listitem" tabindex="0"` +
      ` data-site="${esc(s.site)}" aria-pressed="${selectedSite === s.site}">` +
      `<div class="name"><span title="${esc(name)}">${esc(name)}</span><span class="state ${esc(s.state)}">${esc(stateText(s.state))}</span></div>` +
      `<div class="meta">${esc(t("sites.sensors", { n: s.sensors }))} · ${esc(heard(s, vc))}${esc(localTime(s, vc))}${esc(clockNote(s))}</div>` +
      `${jamLine(s.ongoing, vc)}</div>`);
  }
  if (states.length > shown.length) html.push(`<p class="more">${esc(t("sites.more", { n: states.length - shown.length }))}</p>`);
  return html.join("");
}
