// A Leaflet map without any tile layer: country outlines from the project's own data, drawn three
// times (shifted by -360, 0, +360 degrees) because corridor geometry is continuous across the
// antimeridian (a transpacific line may end at longitude 241).

import { outlines } from "./store.js";
import { cssColour } from "./util.js";

const L = window.L;
export const WORLD_SHIFTS = [-360, 0, 360];

export function createMap(element, { attribution = "" } = {}) {
  const map = L.map(element, {
    worldCopyJump: false,
    minZoom: 1,
    maxZoom: 10,
    zoomSnap: 0.25,
    zoomControl: true,
    attributionControl: true,
    keyboard: true,
  }).setView([38, 62], 2.75);
  map.attributionControl.setPrefix("Outlines: Natural Earth");
  if (attribution) map.attributionControl.addAttribution(attribution);
  map.createPane("outlines").style.zIndex = 250;
  drawOutlines(map);
  return map;
}

async function drawOutlines(map) {
  let collection;
  try {
    collection = await outlines();
  } catch {
    return; // the map still works without its background
  }
  const style = {
    pane: "outlines",
    color: cssColour("--map-border"),
    weight: 0.7,
    fillColor: cssColour("--map-land"),
    fillOpacity: 1,
    interactive: false,
  };
  for (const shift of WORLD_SHIFTS) {
    L.geoJSON(collection, {
      style,
      pane: "outlines",
      interactive: false,
      coordsToLatLng: (c) => L.latLng(c[1], c[0] + shift),
    }).addTo(map);
  }
}

/** Leaflet lat/lngs of a GeoJSON LineString. */
export function lineLatLngs(geometry) {
  return geometry.coordinates.map(([lon, lat]) => [lat, lon]);
}
