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

/** A refused or failed desk action: ``status`` is the HTTP status (0 when the service was not
 * reached), ``field`` the body field a 422 names. */
export class ActionError extends Error {
  constructor(status, field) { super(`HTTP ${status}`); this.status = status; this.field = field; }
}

/** POST a JSON body; the response's JSON, or an ActionError (403, 404 and 422 included). */
export async function postJSON(token, path, body) {
  let r;
  try {
    r = await fetch(API + path, { method: "POST", cache: "no-store", body: JSON.stringify(body),
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" } });
  } catch (e) { throw new ActionError(0, null); }
  if (r.ok) return r.json();
  let field = null;
  if (r.status === 422) {
    try { const loc = (await r.json()).detail?.[0]?.loc || []; field = loc[loc.length - 1] ?? null; } catch (e) { /* no body */ }
  }
  throw new ActionError(r.status, field);
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

const BACKOFF_MS = [250, 500, 1000, 2000]; // then 2 s: back within a few seconds of the service's return
const IDLE_MS = 40_000; // the service sends a comment every 15 s; silence this long means a dead link

/** Parse complete SSE frames off the front of ``buf``; returns what is left. */
export function takeFrames(buf, onMessage) {
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
  return buf;
}

async function readStream(token, signal, { onMessage, onState, onReconnect }, first) {
  const link = new AbortController(), stop = () => link.abort();
  signal.addEventListener("abort", stop);
  let idle = setTimeout(stop, IDLE_MS);
  try {
    const r = await fetch(API + "/stream", { headers: { Authorization: `Bearer ${token}` }, cache: "no-store", signal: link.signal });
    if (r.status === 401 || r.status === 403) { onState("down"); throw new AuthError("token refused by the stream"); }
    if (!r.ok || !r.body) throw new Error(`stream: HTTP ${r.status}`);
    onState("live");
    if (!first) onReconnect();
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      clearTimeout(idle); idle = setTimeout(stop, IDLE_MS);
      buf = takeFrames(buf + value, onMessage);
    }
  } finally {
    clearTimeout(idle);
    signal.removeEventListener("abort", stop);
  }
}

/** Read the SSE stream (token in the Authorization header, never in the URL) until ``signal``
 * aborts; reconnect with backoff after failures and call ``onReconnect`` to catch up. */
export async function stream(token, { onMessage, onState, onReconnect, signal }) {
  let first = true, failures = 0;
  while (!signal.aborted) {
    onState(first ? "connecting" : "reconnecting");
    let wasLive = false;
    try {
      await readStream(token, signal, { onMessage, onReconnect, onState: (s) => { if (s === "live") wasLive = true; onState(s); } }, first);
    } catch (e) {
      if (e instanceof AuthError) throw e;
    }
    if (signal.aborted) return;
    if (wasLive) { first = false; failures = 0; }
    onState("reconnecting");
    await new Promise((res) => setTimeout(res, BACKOFF_MS[Math.min(failures++, BACKOFF_MS.length - 1)]));
  }
}
