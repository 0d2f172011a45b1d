// Strings by message id, one catalogue per language (static/i18n/LANG.json; a third language is
// one more file and one more entry in LANGUAGES). Plurals by Intl.PluralRules, numbers by
// Intl.NumberFormat; sentences are whole messages with {placeholders}, never concatenated.

export const LANGUAGES = ["id", "en"];
const KEY = "spectrum.lang";
let catalogue = {}, lang = "en", plural = new Intl.PluralRules("en"), numbers = new Map();

/** The language to start in: the one chosen before in this browser, else the browser's, else English. */
export function preferredLanguage() {
  const saved = localStorage.getItem(KEY);
  if (LANGUAGES.includes(saved)) return saved;
  for (const l of navigator.languages || [navigator.language || "en"]) {
    const base = l.toLowerCase().split("-")[0];
    if (base === "in" || base === "ms") return "id"; // old code for Indonesian; Malay readers read it too
    if (LANGUAGES.includes(base)) return base;
  }
  return "en";
}

export async function setLanguage(next, remember = false) {
  const r = await fetch(`/static/i18n/${next}.json`, { cache: "no-cache" });
  if (!r.ok) throw new Error(`language ${next}: HTTP ${r.status}`);
  catalogue = await r.json();
  lang = next;
  plural = new Intl.PluralRules(catalogue._locale || next);
  numbers = new Map();
  document.documentElement.lang = next;
  if (remember) localStorage.setItem(KEY, next);
  return next;
}

export const language = () => lang;
export const locale = () => catalogue._locale || lang;
export const languageName = () => catalogue._language || lang;

/** The message ``id`` with ``{name}`` replaced from ``params``; plural messages pick by ``params.n``. */
export function t(id, params = {}) {
  let msg = catalogue[id];
  if (msg === undefined) { console.warn(`no message ${id} in ${lang}`); return id; }
  if (typeof msg === "object") msg = msg[plural.select(params.n ?? 0)] ?? msg.other;
  return msg.replace(/\{(\w+)\}/g, (m, k) => (k in params ? fmtValue(params[k]) : m));
}

function fmtValue(v) { return typeof v === "number" ? num(v) : String(v); }

/** A number in the language's style (id: 1.234,5); ``digits`` fixes the decimals. */
export function num(v, digits) {
  const key = digits ?? -1;
  let f = numbers.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale(), digits === undefined ? { maximumFractionDigits: 2 }
      : { minimumFractionDigits: digits, maximumFractionDigits: digits });
    numbers.set(key, f);
  }
  return f.format(v);
}

/** Fill every element marked ``data-i18n`` (text) and ``data-i18n-attr="attr:id;attr:id"``. */
export function translateStatic(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(";")) {
      const [attr, id] = pair.split(":");
      el.setAttribute(attr, t(id));
    }
  }
  document.title = t("app.title");
}
