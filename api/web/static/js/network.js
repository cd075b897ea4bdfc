// The network map: corridors coloured by mode, nodes coloured by kind, a toggle per mode and per
// kind, the dataset version; a popup with the details of what is selected.

import { getKey } from "./api.js";
import { WORLD_SHIFTS, createMap, lineLatLngs } from "./basemap.js";
import * as store from "./store.js";
import { showError } from "./ui.js";
import { KIND_WORDS, MODE_WORDS, dateOnly, h, kindColour, modeColour, num } from "./util.js";

const L = window.L;
/** Drawn bottom to top: long sea lanes under the inland modes, air on top. */
const MODE_ORDER = ["sea", "inland_water", "rail", "road", "air"];

export function initNetwork() {
  const dataset = document.getElementById("dataset");
  const modeToggles = document.getElementById("mode-toggles");
  const kindToggles = document.getElementById("kind-toggles");
  let map = null;
  let loadedFor = null;
  const modeLayers = new Map();
  const kindLayers = new Map();

  function ensureMap() {
    if (!map) {
      map = createMap(document.getElementById("network-map"));
      map.createPane("nodes").style.zIndex = 640;
    }
    map.invalidateSize();
  }

  function toggle(list, id, word, count, swatchClass, layer, extra = "") {
    const input = h("input", { type: "checkbox", id, checked: true, onchange: () => {
      if (input.checked) layer.addTo(map); else map.removeLayer(layer);
    } });
    list.append(h("div", { class: "toggle" }, input,
      h("label", { for: id }, h("span", { class: `swatch ${swatchClass}` }), word, " ",
        h("span", { class: "count" }, `${num(count)}${extra}`))));
  }

  function corridorPopup(p, names) {
    const place = (id) => (names.get(id)?.name_en ? `${names.get(id).name_en} (${id})` : id);
    const rows = [
      ["From", place(p.origin)], ["To", place(p.destination)], ["Mode", MODE_WORDS[p.mode] || p.mode],
      ["Distance", `${num(p.distance_km)} km`],
      ["Transit", `${num(p.duration_h, 1)} h (p90 ${num(p.duration_p90_h, 1)} h)`],
      ["Departures", p.scheduled ? `${num(p.departures_per_week, 1)} a week` : "on demand"],
    ];
    if (p.passages) rows.push(["Passages", p.passages.split("|").join(", ")]);
    return h("div", {}, h("h3", {}, p.service_name || p.id), h("div", { class: "muted" }, p.id),
      h("dl", {}, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])));
  }

  function nodePopup(p) {
    return h("div", {}, h("h3", {}, p.name_en), p.name_zh ? h("div", { lang: "zh" }, p.name_zh) : null,
      h("dl", {},
        h("dt", {}, "Id"), h("dd", {}, p.id),
        h("dt", {}, "Kind"), h("dd", {}, KIND_WORDS[p.kind] || p.kind),
        h("dt", {}, "Country"), h("dd", {}, p.country),
        h("dt", {}, "Modes"), h("dd", {}, String(p.modes || "").split("|").map((m) => MODE_WORDS[m] || m).join(", ")),
        p.regimes ? [h("dt", {}, "Customs"), h("dd", {}, String(p.regimes).split("|").join(", "))] : null));
  }

  async function load() {
    dataset.textContent = "Loading the network…";
    const [summary, nodes, corridors] = await Promise.all([store.summary(), store.nodes(), store.corridors()]);
    for (const layer of [...modeLayers.values(), ...kindLayers.values()]) map.removeLayer(layer);
    modeLayers.clear();
    kindLayers.clear();
    modeToggles.replaceChildren();
    kindToggles.replaceChildren();

    dataset.replaceChildren(
      h("strong", {}, "Dataset "), h("span", { id: "dataset-version" }, summary.version),
      h("br"), `of ${dateOnly(summary.date)} · ${num(summary.nodes)} nodes · ${num(summary.corridors)} corridors · ${num(summary.services)} services`);

    for (const mode of MODE_ORDER) {
      const features = corridors.collection.features.filter((f) => f.properties.mode === mode);
      const layer = L.geoJSON({ type: "FeatureCollection", features }, {
        className: `corridor corridor-${mode}`, // set when each path is made, not by style
        style: {
          color: modeColour(mode), weight: mode === "sea" ? 1.6 : 2.2, opacity: 0.85,
          dashArray: mode === "air" ? "5 5" : null,
        },
        onEachFeature: (feature, l) => l.bindPopup(() => corridorPopup(feature.properties, nodes.byId)),
      }).addTo(map);
      modeLayers.set(mode, layer);
    }
    for (const mode of Object.keys(MODE_WORDS)) {
      const km = summary.corridor_km_by_mode?.[mode];
      toggle(modeToggles, `toggle-mode-${mode}`, MODE_WORDS[mode], summary.corridors_by_mode?.[mode] ?? 0,
        `mode-${mode}`, modeLayers.get(mode), km ? ` · ${num(km / 1000)}k km` : "");
    }

    const byKind = new Map();
    for (const f of nodes.collection.features) {
      const kind = f.properties.kind;
      if (!byKind.has(kind)) byKind.set(kind, L.layerGroup());
      const [lon, lat] = f.geometry.coordinates;
      const end = kind === "market" || kind === "overseas_warehouse";
      for (const shift of WORLD_SHIFTS) {
        L.circleMarker([lat, lon + shift], {
          pane: "nodes", radius: end ? 5 : 4.5, color: "#ffffff", weight: 1.3,
          fillColor: kindColour(kind), fillOpacity: 1, className: `node node-${kind}`,
        }).bindTooltip(`${f.properties.name_en}${f.properties.name_zh ? ` · ${f.properties.name_zh}` : ""}`)
          .bindPopup(() => nodePopup({ ...f.properties, id: f.id }))
          .addTo(byKind.get(kind));
      }
    }
    for (const kind of Object.keys(KIND_WORDS)) {
      const layer = byKind.get(kind) || L.layerGroup();
      layer.addTo(map);
      kindLayers.set(kind, layer);
      toggle(kindToggles, `toggle-kind-${kind}`, KIND_WORDS[kind], summary.nodes_by_kind?.[kind] ?? 0,
        `dot kind-${kind}`, layer);
    }
    // Open on Europe, Asia and Africa, where the corridors are; the Americas are a pan away.
    const oldWorld = nodes.collection.features.filter((f) => f.geometry.coordinates[0] > -30);
    const bounds = L.latLngBounds(oldWorld.map((f) => [f.geometry.coordinates[1], f.geometry.coordinates[0]]));
    map.fitBounds(bounds, { padding: [30, 30] });
  }

  return {
    async show() {
      ensureMap();
      const key = getKey();
      if (!key) {
        dataset.textContent = "Enter your API key at the top of the page to load the network.";
        return;
      }
      if (loadedFor === key) return;
      loadedFor = key; // one load per key at a time; reset below if it fails
      try {
        await load();
      } catch (error) {
        loadedFor = null;
        dataset.textContent = "The network could not be loaded.";
        showError(error, { what: "the network map" });
      }
    },
    reset() { loadedFor = null; },
  };
}
