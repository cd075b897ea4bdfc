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

/** Pixels kept clear between what a fitted map shows and its edges or controls. */
const FIT_GAP = 8;

/**
 * The room the map's controls (zoom buttons, attribution) and `overlays` (a legend laid over the
 * map) leave free, as pixels from each edge of the map. Each one over the map is cleared from the
 * edge where that costs the least room: the zoom buttons from the left, a legend along the bottom
 * from the bottom.
 */
export function freeInsets(map, overlays = []) {
  const box = map.getContainer().getBoundingClientRect();
  const insets = { top: FIT_GAP, right: FIT_GAP, bottom: FIT_GAP, left: FIT_GAP };
  const controls = map.getContainer().querySelectorAll(".leaflet-control");
  for (const element of [...controls, ...overlays]) {
    const r = element.getBoundingClientRect();
    const left = r.left - box.left, right = r.right - box.left;
    const top = r.top - box.top, bottom = r.bottom - box.top;
    if (!r.width || !r.height || right <= 0 || left >= box.width || bottom <= 0 || top >= box.height) {
      continue; // hidden, or not over the map
    }
    const room = { left: right, right: box.width - left, top: bottom, bottom: box.height - top };
    const side = Object.keys(room).reduce((a, b) => {
      const span = (s) => room[s] / (s === "left" || s === "right" ? box.width : box.height);
      return span(b) < span(a) ? b : a;
    });
    insets[side] = Math.max(insets[side], room[side] + FIT_GAP);
  }
  return insets;
}

/**
 * The box a permanent tooltip takes, in pixels from the point it labels: [left, top, right,
 * bottom]. Leaflet puts a "left" tooltip's right edge, a "right" one's left edge, at the point plus
 * the tooltip's offset, centred vertically; the CSS margin makes room for its arrow.
 */
export function tooltipBox(tooltip) {
  const element = tooltip.getElement();
  if (!element) return [0, 0, 0, 0];
  const width = element.offsetWidth, height = element.offsetHeight;
  const margin = parseFloat(getComputedStyle(element).marginLeft) || 0;
  const offset = L.point(tooltip.options.offset);
  const direction = tooltip.options.direction;
  const left = (direction === "left" ? offset.x - width
    : direction === "right" ? offset.x : offset.x - width / 2) + margin;
  return [left, offset.y - height / 2, left + width, offset.y + height / 2];
}

/**
 * Show the whole of a route at the largest zoom (at most `maxZoom`, in steps of the map's
 * zoomSnap) at which every point of `latlngs` and every box of `boxes` (markers and their labels:
 * {latlng, box: [left, top, right, bottom] in pixels from the point}) lies inside the map and clear
 * of its controls and `overlays`, centred in the room they leave. Below the map's minimum zoom it
 * shows as much as it can. No animation: the map is where it is meant to be as soon as this returns.
 */
export function fitRoute(map, latlngs, boxes = [], { maxZoom = map.getMaxZoom(), overlays = [] } = {}) {
  if (!latlngs.length) return;
  map.invalidateSize({ pan: false }); // the page around the map may have changed its size
  const size = map.getSize();
  const insets = freeInsets(map, overlays);
  const room = L.point(size.x - insets.left - insets.right, size.y - insets.top - insets.bottom);
  const extent = (zoom) => {
    const bounds = L.bounds([]);
    for (const latlng of latlngs) bounds.extend(map.project(latlng, zoom));
    for (const { latlng, box } of boxes) {
      const p = map.project(latlng, zoom);
      bounds.extend(L.point(p.x + box[0], p.y + box[1]));
      bounds.extend(L.point(p.x + box[2], p.y + box[3]));
    }
    return bounds;
  };
  const step = map.options.zoomSnap || 0.25;
  const lowest = map.getMinZoom();
  let zoom = Math.max(Math.min(maxZoom, map.getMaxZoom()), lowest);
  let bounds = extent(zoom);
  while (zoom - step >= lowest - 1e-9) {
    const span = bounds.getSize();
    if (span.x <= room.x && span.y <= room.y) break;
    zoom -= step;
    bounds = extent(zoom);
  }
  // The middle of what is shown goes to the middle of the free room, not of the map.
  const shift = L.point(size.x / 2 - (insets.left + room.x / 2), size.y / 2 - (insets.top + room.y / 2));
  map.setView(map.unproject(bounds.getCenter().add(shift), zoom), zoom, { animate: false });
}

/** The same line moved by a whole number of turns of the Earth to start nearest `lng`: legs of one
 * route stay joined across the antimeridian (a transpacific lane may end at longitude 241). */
export function nearLongitude(latlngs, lng) {
  if (!latlngs.length || lng === undefined) return latlngs;
  const turns = Math.round((lng - latlngs[0][1]) / 360);
  return turns ? latlngs.map(([lat, lon]) => [lat, lon + 360 * turns]) : latlngs;
}
