// Talking to the service: bearer-token fetches and the live stream (SSE read through fetch,
// so the token travels in the Authorization header, never in a URL that could be logged).

const KEY = "spectrum.viewerToken";
export const API = "/api/v1";

export class AuthError extends Error {}

/** The viewer token: from the URL fragment (#token=..., then removed) or this tab's session. */
export function takeToken() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(KEY, decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(KEY);
}
export function saveToken(token) { sessionStorage.setItem(KEY, token); }
export function forgetToken() { sessionStorage.removeItem(KEY); }

export async function getJSON(token, path, params) {
  const url = new URL(API + path, location.origin);
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === "") continue;
    for (const one of Array.isArray(v) ? v : [v]) url.searchParams.append(k, one);
  }
  const r = await fetch(url, { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
  if (r.status === 401 || r.status === 403) throw new AuthError(`the service refused the token (HTTP ${r.status})`);
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

/** Every event (newest first), page by page; ``onPage`` sees each page as it arrives. */
export async function loadEvents(token, onPage, { max = 20000, pageSize = 1000, params = {} } = {}) {
  let cursor = null, total = 0;
  do {
    const page = await getJSON(token, "/events", { ...params, limit: pageSize, cursor });
    total += page.events.length;
    onPage(page.events);
    cursor = page.next_cursor;
  } while (cursor && total < max);
  return { total, complete: !cursor };
}

/** Read the SSE stream until ``signal`` aborts; reconnect after failures. */
export async function stream(token, { onMessage, onState, onReconnect, signal }) {
  let first = true;
  while (!signal.aborted) {
    try {
      onState(first ? "connecting" : "reconnecting");
      const r = await fetch(API + "/stream", { headers: { Authorization: `Bearer ${token}` }, cache: "no-store", signal });
      if (r.status === 401 || r.status === 403) { onState("down"); throw new AuthError("token refused by the stream"); }
      if (!r.ok || !r.body) throw new Error(`stream: HTTP ${r.status}`);
      onState("live");
      if (!first) onReconnect();
      first = false;
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let type = "message", data = "";
          for (const line of frame.split("\n")) {
            if (line.startsWith("event:")) type = line.slice(6).trim();
            else if (line.startsWith("data:")) data += line.slice(5).trim();
          }
          if (data) { try { onMessage(type, JSON.parse(data)); } catch (e) { console.warn("bad stream message", e); } }
        }
      }
    } catch (e) {
      if (e instanceof AuthError) throw e;
      if (signal.aborted) return;
    }
    onState("reconnecting");
    await new Promise((res) => setTimeout(res, 2000));
  }
}
