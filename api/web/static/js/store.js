// Data shared by the views, fetched once per API key: network summary, nodes, corridors; and the
// form options and country outlines (no key needed).

import { api } from "./api.js";

const cache = new Map();

function once(name, load) {
  if (!cache.has(name)) {
    const promise = load();
    cache.set(name, promise);
    promise.catch(() => cache.delete(name)); // a failure (e.g. 401) is retried next time
  }
  return cache.get(name);
}

/** Forget what was fetched with the previous key. */
export function resetKeyed() {
  for (const name of cache.keys()) {
    if (["summary", "nodes", "corridors"].includes(name) || name.startsWith("place:")) cache.delete(name);
  }
}

export const formOptions = () => once("options", () => api("/web/form-options.json", { auth: false }));
export const outlines = () => once("outlines", () => api("/web/countries.geojson", { auth: false }));
export const summary = () => once("summary", () => api("/v1/network"));

/** Nodes as GeoJSON and as a Map id -> properties (with lon, lat). */
export const nodes = () => once("nodes", async () => {
  const collection = await api("/v1/network/nodes");
  const byId = new Map();
  for (const f of collection.features) {
    const [lon, lat] = f.geometry.coordinates;
    byId.set(f.id, { ...f.properties, id: f.id, lon, lat });
  }
  return { collection, byId };
});

/** Corridors as GeoJSON and indexed by origin|destination|mode (legs carry only those). */
export const corridors = () => once("corridors", async () => {
  const collection = await api("/v1/network/corridors");
  const byEnds = new Map();
  for (const f of collection.features) {
    const p = f.properties;
    const key = `${p.origin}|${p.destination}|${p.mode}`;
    if (!byEnds.has(key)) byEnds.set(key, []);
    byEnds.get(key).push(f);
  }
  return { collection, byEnds };
});

/** The corridor a leg travelled: same ends and mode; the service name tells parallel ones apart. */
export function corridorOfLeg(index, leg) {
  const candidates = index.byEnds.get(`${leg.from}|${leg.to}|${leg.mode}`) || [];
  return candidates.find((f) => leg.service && f.properties.service_name === leg.service)
    || candidates[0] || null;
}

/**
 * Where a plan's end that is not a node lies, as a node-like {id, name_en, lat, lon, ...}: the
 * "lat,lon" it was given as, or the centre of the city of several terminals it names (the
 * type-ahead's match for that name); null when it is neither.
 */
export function placeOf(label) {
  const point = label.match(/^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/);
  if (point) {
    return Promise.resolve({ id: label, name_en: label, lat: Number(point[1]), lon: Number(point[2]) });
  }
  return once(`place:${label}`, async () => {
    const [match] = await api(`/v1/network/search?q=${encodeURIComponent(label)}&limit=1`);
    return match && match.kind === "city" ? match : null;
  });
}
