// Small helpers: building DOM nodes, formatting numbers and times, the colours of app.css.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "text") el.textContent = value;
    else if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") el.textContent = value;
    else if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function cssColour(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

export const modeColour = (mode) => cssColour(`--mode-${mode}`);
export const kindColour = (kind) => cssColour(`--kind-${kind}`);

export const MODE_WORDS = {
  road: "Road", rail: "Rail", inland_water: "Inland waterway", sea: "Sea", air: "Air",
};
export const KIND_WORDS = {
  city: "City", industrial_park: "Industrial park", rail_terminal: "Rail terminal",
  river_port: "River port", seaport: "Seaport", airport: "Airport",
  border_crossing: "Border crossing", bonded_zone: "Bonded zone",
  overseas_warehouse: "Overseas warehouse", market: "Market",
};

export function modeTag(mode) {
  return h("span", { class: `mode-tag mode-${mode}` }, MODE_WORDS[mode] || mode);
}

export function money(value, currency) {
  try {
    return new Intl.NumberFormat("en-GB", {
      style: "currency", currency, maximumFractionDigits: 0,
    }).format(value);
  } catch {
    return `${currency} ${Math.round(value).toLocaleString("en-GB")}`;
  }
}

export function num(value, digits = 0) {
  return Number(value).toLocaleString("en-GB", {
    minimumFractionDigits: digits, maximumFractionDigits: digits,
  });
}

export function days(hours) {
  const d = hours / 24;
  return d < 10 ? num(d, 1) : num(d, 0);
}

export function hoursBetween(startIso, endIso) {
  return (Date.parse(endIso) - Date.parse(startIso)) / 3_600_000;
}

/** A time as the clock at a place shows it ("Tue 25 Nov, 10:00 GMT+8"). */
export function placeTime(iso, timeZone) {
  const options = {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
    hourCycle: "h23", timeZoneName: "short",
  };
  try {
    return new Intl.DateTimeFormat("en-GB", { ...options, timeZone: timeZone || "UTC" })
      .format(new Date(iso));
  } catch {
    return new Intl.DateTimeFormat("en-GB", { ...options, timeZone: "UTC" }).format(new Date(iso));
  }
}

export function dateOnly(iso) {
  return new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric" })
    .format(new Date(iso));
}

/** "2026-11-23T08:00" in this browser's zone -> ISO 8601 with its offset. */
export function localInputToIso(value) {
  if (!value) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  const offsetMin = -date.getTimezoneOffset();
  const sign = offsetMin >= 0 ? "+" : "-";
  const abs = Math.abs(offsetMin);
  const pad = (n) => String(n).padStart(2, "0");
  const stamp = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:00`;
  return `${stamp}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** ISO week ("2026-W48") of a date, as <input type="week"> and the API write it. */
export function isoWeek(date = new Date()) {
  const d = new Date(Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((d - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

/** Round axis ticks covering [lo, hi]. */
export function ticks(lo, hi, count = 5) {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((x) => x >= raw) || raw;
  const first = Math.floor(lo / step) * step;
  const out = [];
  for (let v = first; v <= hi + step * 0.5; v += step) out.push(Number(v.toFixed(10)));
  return out;
}

export function compact(value) {
  const abs = Math.abs(value);
  if (abs >= 1_000_000) return `${num(value / 1_000_000, abs >= 10_000_000 ? 0 : 1)}M`;
  if (abs >= 10_000) return `${num(value / 1000, 0)}k`;
  if (abs >= 1000) return `${num(value / 1000, 1)}k`;
  return num(value, Number.isInteger(value) ? 0 : 1);
}
