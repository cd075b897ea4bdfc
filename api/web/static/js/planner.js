// The shipment form, the options (table and cost-versus-days chart), the selected option's legs
// on the map and in a table.

import { api, fieldWord } from "./api.js";
import { createMap, fitRoute, lineLatLngs, nearLongitude, tooltipBox } from "./basemap.js";
import { costDaysChart } from "./charts.js";
import * as store from "./store.js";
import { typeahead } from "./typeahead.js";
import { clearBanner, showError } from "./ui.js";
import {
  MODE_WORDS, days, h, hoursBetween, localInputToIso, modeColour, modeTag, money, num,
  placeTime,
} from "./util.js";

const L = window.L;

/** Where the API's field paths are shown: the element whose `${id}-error` holds the message. */
const FIELD_TARGETS = {
  origin: "origin", destination: "destination", weight_kg: "weight_kg", volume_m3: "volume_m3",
  cargo_class: "cargo_class", customs_regime: "customs_regime", currency: "currency",
  ready_at: "ready_at", deadline: "deadline", modes: "modes", forbidden_modes: "modes",
  avoid: "avoid", pieces: "pieces", piece_dimensions_cm: "piece_dimensions_cm",
  contents: "contents", destination_postcode: "destination_postcode", piece_kg: "piece_kg",
};
/** In parcel mode the totals come from the per-piece fields: their errors are shown there. */
const PARCEL_TARGETS = { weight_kg: "piece_kg", volume_m3: "piece_dimensions_cm" };

/** A real calendar date written YYYY-MM-DD (ISO 8601), the only way the page writes dates. */
function isIsoDate(text) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const [year, month, day] = text.split("-").map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1
    && date.getUTCDate() === day;
}

export function initPlanner() {
  const form = document.getElementById("shipment-form");
  const results = document.getElementById("results");
  const button = document.getElementById("plan-button");
  const status = document.getElementById("plan-status");
  const chartBody = document.getElementById("chart-body");
  const origin = typeahead(form.elements.origin);
  const destination = typeahead(form.elements.destination);
  let map = null;
  let routeLayer = null;
  let current = null; // { plan, nodes, corridors, selected, legLayers }
  let rateLimited = false;

  fillChoices(form);
  const parcelMode = () => form.elements.ship_as.value === "parcels";
  function showMode() {
    const parcels = parcelMode();
    for (const el of form.querySelectorAll(".freight-only")) el.hidden = parcels;
    for (const el of form.querySelectorAll(".parcel-only")) el.hidden = !parcels;
  }
  for (const input of form.querySelectorAll("#ship-as input")) input.addEventListener("change", showMode);
  showMode();

  function ensureMap() {
    if (!map) {
      const element = document.getElementById("plan-map");
      map = createMap(element);
      routeLayer = L.layerGroup().addTo(map);
      map.createPane("stops").style.zIndex = 640; // under the labels (tooltips: 650)
      renderLegend();
      // The page around the map changes its size (results below it, a scroll bar, the window):
      // the selected option is fitted again to the map's new size.
      let width = 0, height = 0;
      new ResizeObserver(() => {
        if (!element.offsetWidth || (element.offsetWidth === width && element.offsetHeight === height)) return;
        width = element.offsetWidth;
        height = element.offsetHeight;
        map.invalidateSize({ pan: false });
        fitSelected();
      }).observe(element);
    }
    map.invalidateSize();
    return map;
  }

  function renderLegend() {
    document.getElementById("plan-legend").replaceChildren(
      ...Object.entries(MODE_WORDS).map(([mode, word]) =>
        h("span", {}, h("span", { class: `swatch mode-${mode}` }), word)),
      h("span", {}, h("span", { class: "swatch option-swatch" }), "other options"),
    );
  }

  // --- Errors next to the fields ---------------------------------------------------------------
  function clearErrors() {
    for (const el of form.querySelectorAll(".field-error")) { el.hidden = true; el.textContent = ""; }
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  }

  function fieldError(target, message) {
    const control = document.getElementById(target);
    const slot = document.getElementById(`${target}-error`);
    if (!control || !slot) return false;
    slot.textContent = slot.hidden ? message : `${slot.textContent} ${message}`;
    slot.hidden = false;
    control.setAttribute("aria-invalid", "true");
    return true;
  }

  function showFieldErrors(fields) {
    const elsewhere = [];
    let first = null;
    for (const { field, message } of fields) {
      const name = field.split(".")[0];
      const target = (parcelMode() && PARCEL_TARGETS[name]) || FIELD_TARGETS[name];
      if (target && fieldError(target, message)) first ??= target;
      else elsewhere.push(field === "body" ? message : `${fieldWord(field)}: ${message}`);
    }
    if (first) {
      const el = document.getElementById(first);
      (el.matches("fieldset") ? el.querySelector("input") : el).focus();
    }
    return elsewhere;
  }

  // --- The request ----------------------------------------------------------------------------
  function collect() {
    const problems = [];
    const el = form.elements;
    const body = {
      origin: origin.value(),
      destination: destination.value(),
      cargo_class: el.cargo_class.value,
      customs_regime: el.customs_regime.value,
      currency: el.currency.value,
      avoid: [...form.querySelectorAll("#avoid-choices input:checked")].map((i) => i.value),
    };
    if (parcelMode()) Object.assign(body, collectParcels(problems));
    else {
      for (const name of ["weight_kg", "volume_m3"]) {
        const input = el[name];
        if (input.validity.badInput) problems.push({ field: name, message: "Enter a number." });
        else if (input.value !== "") body[name] = Number(input.value);
      }
    }
    for (const [name, time] of [["ready_at", "09:00"], ["deadline", "23:59"]]) {
      const input = el[name];
      const text = input.value.trim();
      if (text && !isIsoDate(text)) {
        problems.push({ field: name, message: "Enter a date as YYYY-MM-DD, e.g. 2026-12-10." });
      } else if (text) body[name] = localInputToIso(`${text}T${time}`);
    }
    const modes = [...form.querySelectorAll("#modes-choices input")];
    const allowed = modes.filter((i) => i.checked).map((i) => i.value);
    if (!allowed.length) problems.push({ field: "modes", message: "Choose at least one mode." });
    else if (allowed.length < modes.length) body.modes = allowed;
    return { body, problems };
  }

  /**
   * Parcel mode: the totals from weight and size per piece times pieces, sent as express
   * cargo with the piece's size, its contents and the postcode, for the parcel channels.
   */
  function collectParcels(problems) {
    const el = form.elements;
    const number = (input, field) => {
      if (input.validity.badInput || input.value === "") {
        problems.push({ field, message: "Enter a number." });
        return NaN;
      }
      return Number(input.value);
    };
    const pieceKg = number(el.piece_kg, "piece_kg");
    const pieces = number(el.pieces, "pieces");
    const sides = [el.piece_l, el.piece_w, el.piece_h].map((i) => number(i, "piece_dimensions_cm"));
    const body = {
      cargo_class: "express",
      pieces,
      piece_dimensions_cm: sides,
      contents: [...form.querySelectorAll("#contents-choices input:checked")].map((i) => i.value),
      destination_postcode: el.destination_postcode.value.trim(),
    };
    if (Number.isFinite(pieceKg) && Number.isFinite(pieces)) body.weight_kg = pieceKg * pieces;
    if (sides.every(Number.isFinite) && Number.isFinite(pieces)) {
      body.volume_m3 = (sides[0] * sides[1] * sides[2] * pieces) / 1e6;
    }
    return body;
  }

  async function submit(event) {
    event.preventDefault();
    if (rateLimited) return;
    clearErrors();
    clearBanner();
    const { body, problems } = collect();
    if (problems.length) {
      showFieldErrors(problems);
      return;
    }
    button.disabled = true;
    status.textContent = "Finding routes…";
    results.setAttribute("aria-busy", "true");
    try {
      const plan = await api("/v1/route-plans", { method: "POST", body });
      const [nodes, corridors] = await Promise.allSettled([store.nodes(), store.corridors()]);
      current = {
        plan,
        nodes: await withEndPlaces(plan, nodes.status === "fulfilled" ? nodes.value.byId : new Map()),
        corridors: corridors.status === "fulfilled" ? corridors.value : null,
        selected: 0,
      };
      status.textContent = plan.options.length
        ? `${plan.options.length} option${plan.options.length === 1 ? "" : "s"} found.`
        : "No route found.";
      render();
    } catch (error) {
      status.textContent = "";
      const said = showError(error, {
        what: "this shipment",
        whileWaiting: (waiting) => { rateLimited = waiting; button.disabled = waiting; },
      });
      const elsewhere = showFieldErrors(said.fields);
      if (elsewhere.length) {
        const text = document.getElementById("banner-text");
        text.textContent = elsewhere.length === said.fields.length
          ? `The service could not accept this shipment. ${elsewhere.join(" ")}`
          : `${text.textContent} ${elsewhere.join(" ")}`;
      }
    } finally {
      results.removeAttribute("aria-busy");
      if (!rateLimited) button.disabled = false;
    }
  }

  form.addEventListener("submit", submit);

  // --- Results --------------------------------------------------------------------------------
  function nodeName(id) {
    return current.nodes.get(id)?.name_en || id;
  }

  function render() {
    const { plan } = current;
    ensureMap();
    routeLayer.clearLayers();
    const notice = warningsNotice(plan);
    if (!plan.options.length) {
      chartBody.replaceChildren(h("p", { class: "chart-empty muted" }, "No option to show."));
      results.replaceChildren(...notice, h("div", { class: "panel empty-state no-route", id: "no-route" },
        h("h2", {}, "No route found"),
        h("p", { class: "reason" }, plan.infeasible_reason || "The planner found no option for this shipment."),
        h("p", { class: "muted" }, "Change the dates, the modes or the passages to avoid, and try again.")),
      ...channelsPanel(plan));
      return;
    }
    const readyAt = plan.request.ready_at;
    const rows = plan.options.map((o, i) => ({
      option: o, index: i, cost: o.total_cost, co2e: o.co2e_kg,
      days: o.transit_hours / 24,
      p90Days: hoursBetween(readyAt, o.arrival_p90) / 24,
    }));
    const best = (key) => rows.reduce((a, b) => (b[key] < a[key] ? b : a)).index;
    const marks = rows.length > 1
      ? { cheapest: best("cost"), fastest: best("days"), greenest: best("co2e") }
      : {};

    const head = h("div", { class: "results-head" },
      h("h2", {}, `${plan.options.length} option${plan.options.length === 1 ? "" : "s"}: ${nodeName(plan.request.origin)} → ${nodeName(plan.request.destination)}`),
      h("span", { class: "muted" },
        `Ready ${placeTime(readyAt, current.nodes.get(plan.options[0].legs[0].from)?.timezone)} · dataset ${plan.dataset_version} · plan ${plan.id}`));

    const table = h("table", { class: "options-table stack-table", id: "options-table" },
      h("caption", { class: "visually-hidden" }, "Route options; choose one to see its legs"),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Select")),
        h("th", { scope: "col" }, "Route"),
        h("th", { scope: "col", class: "num" }, `Cost (${plan.currency})`),
        h("th", { scope: "col", class: "num" }, "Days"),
        h("th", { scope: "col", class: "num" }, "P90 days"),
        h("th", { scope: "col", class: "num" }, "CO₂e kg"),
        h("th", { scope: "col" }, "Modes"))),
      h("tbody", {}, rows.map((r) => optionRow(r, marks))));

    chartBody.replaceChildren(
      costDaysChart(rows.map((r) => ({
        label: String(r.index + 1), days: r.days, p90Days: Math.max(r.p90Days, r.days), cost: r.cost,
        title: `Option ${r.index + 1}: ${days(r.option.transit_hours)} days (p90 ${num(r.p90Days, 1)}), ${money(r.cost, plan.currency)}`,
      })), { currency: plan.currency, selected: current.selected, onSelect: select }),
      h("p", { class: "chart-note" }, "Lower left is better; the bar runs to the 90th-percentile arrival. Select a dot to see that option."));

    results.replaceChildren(
      ...notice,
      head,
      h("div", { class: "panel table-panel" }, h("div", { class: "table-scroll" }, table)),
      ...channelsPanel(plan),
      h("div", { class: "panel legs-panel", id: "legs" }));
    select(current.selected, { focus: false });
  }

  // Every parcel channel's quote for the pieces, or why it refuses them: a list of one panel,
  // or none when parcels were not in play.
  function channelsPanel(plan) {
    const quotes = plan.parcel_channels || [];
    if (!quotes.length) return [];
    const offered = quotes.filter((q) => q.offered).sort((a, b) => a.cost - b.cost);
    const refused = quotes.filter((q) => !q.offered);
    const row = (q) => h("tr", { "data-channel": q.channel, class: q.offered ? "" : "refused" },
      h("th", { scope: "row", class: "wide" }, q.name, h("div", { class: "muted" }, kindWords(q.kind))),
      h("td", { class: "num", "data-label": `Cost (${plan.currency})` }, q.offered ? num(q.cost) : "—",
        q.offered ? h("ul", { class: "charges muted" }, q.charges.map((c) => h("li", { title: c.basis },
          `${c.kind.replaceAll("_", " ")} ${num(c.amount)}`))) : null),
      h("td", { class: "num", "data-label": "Days" }, q.offered ? `${q.transit_days_min}–${q.transit_days_max}` : "—"),
      h("td", { "data-label": "Duties" }, q.offered ? `${q.duties} · ${q.regime}` : "—"),
      h("td", { class: "wide", "data-label": "Refused" }, q.offered ? "" : q.reason));
    return [h("section", { class: "panel table-panel channels-panel", id: "parcel-channels", "aria-labelledby": "channels-title" },
      h("h2", { id: "channels-title" }, `Parcel channels: ${offered.length} of ${quotes.length} take these pieces`),
      h("div", { class: "table-scroll" }, h("table", { class: "channels-table stack-table" },
        h("caption", { class: "visually-hidden" }, "Parcel channels, cheapest first, then those that refuse"),
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, "Channel"),
          h("th", { scope: "col", class: "num" }, `Cost (${plan.currency})`),
          h("th", { scope: "col", class: "num" }, "Days"),
          h("th", { scope: "col" }, "Duties · regime"),
          h("th", { scope: "col" }, "Refused because"))),
        h("tbody", {}, [...offered, ...refused].map(row)))))];
  }

  // What to check before acting on the plan (stale rates, FX, passages left out), to go above
  // the options: a list of one notice, or none when the plan has no warnings.
  function warningsNotice(plan) {
    const warnings = plan.warnings || [];
    if (!warnings.length) return [];
    return [h("section", { class: "panel plan-warnings", id: "plan-warnings", "aria-labelledby": "plan-warnings-title" },
      h("h2", { id: "plan-warnings-title" }, `Check before you book (${warnings.length})`),
      h("ul", {}, warnings.map((w) => h("li", {}, w))))];
  }

  function optionRow(r, marks) {
    const { option, index } = r;
    const id = `option-${index}`;
    const badges = [];
    if (index === marks.cheapest) badges.push(h("span", { class: "badge cheapest" }, "Cheapest"));
    if (index === marks.fastest) badges.push(h("span", { class: "badge fastest" }, "Fastest"));
    if (index === marks.greenest) badges.push(h("span", { class: "badge greenest" }, "Lowest CO₂e"));
    const deadline = current.plan.request.deadline;
    if (deadline && Date.parse(option.arrival_p90) > Date.parse(deadline)) {
      badges.push(h("span", { class: "badge late" }, "P90 after deadline"));
    }
    return h("tr", { "data-option": index, onclick: (event) => {
      if (event.target.tagName !== "INPUT") select(index);
    } },
    h("td", { class: "pick" }, h("input", { type: "radio", name: "option", id, value: index,
      "aria-label": `Option ${index + 1}`, onchange: () => select(index, { focus: false }) })),
    h("td", { class: "route wide" },
      h("label", { for: id, class: "opt-label" }, `Option ${index + 1}`),
      option.family ? h("p", { class: "route-family" }, option.family) : null,
      h("p", { class: "route-chain" }, routeChain(option)),
      viaWords(option.summary) ? h("p", { class: "route-via" }, `via ${viaWords(option.summary)}`) : null,
      badges.length ? h("div", {}, badges) : null),
    h("td", { class: "num", "data-label": `Cost (${current.plan.currency})` }, num(option.total_cost)),
    h("td", { class: "num", "data-label": "Days" }, days(option.transit_hours)),
    h("td", { class: "num", "data-label": "P90 days" }, num(r.p90Days, r.p90Days < 10 ? 1 : 0)),
    h("td", { class: "num", "data-label": "CO₂e kg" }, num(option.co2e_kg)),
    h("td", { class: "wide" }, h("div", { class: "tags" }, option.modes.map(modeTag))));
  }

  /** Places where the mode changes, joined by arrows in the colour of the mode between. */
  function routeChain(option) {
    const groups = [];
    for (const leg of option.legs) {
      if (groups.length && groups.at(-1).mode === leg.mode) groups.at(-1).to = leg.to;
      else groups.push({ mode: leg.mode, from: leg.from, to: leg.to });
    }
    const items = [h("span", { class: "stop" }, nodeName(groups[0].from))];
    for (const group of groups) {
      items.push(" ", h("span", { class: `hop mode-${group.mode}` }, MODE_WORDS[group.mode] || group.mode),
        " ", h("span", { class: "stop" }, nodeName(group.to)));
    }
    return items;
  }

  function select(index, { focus = false } = {}) {
    current.selected = index;
    for (const row of results.querySelectorAll(".options-table tbody tr")) {
      const on = Number(row.dataset.option) === index;
      row.classList.toggle("selected", on);
      row.querySelector("input").checked = on;
    }
    for (const point of chartBody.querySelectorAll(".point")) {
      const on = Number(point.dataset.option) === index;
      point.classList.toggle("selected", on);
      point.setAttribute("aria-pressed", String(on));
    }
    drawRoutes();
    renderLegs();
    if (focus) results.querySelector(`#option-${index}`)?.focus();
  }

  // --- Map ------------------------------------------------------------------------------------
  function legLine(leg) {
    const corridor = current.corridors && store.corridorOfLeg(current.corridors, leg);
    if (corridor) return { latlngs: lineLatLngs(corridor.geometry), exact: true };
    const a = current.nodes.get(leg.from), b = current.nodes.get(leg.to);
    if (a && b) return { latlngs: [[a.lat, a.lon], [b.lat, b.lon]], exact: false };
    return null;
  }

  /** The lines of an option's legs, each joined to the one before across the antimeridian. */
  function optionLines(option) {
    let lng;
    return option.legs.map((leg) => {
      const line = legLine(leg);
      if (!line) return null;
      const latlngs = nearLongitude(line.latlngs, lng);
      lng = latlngs.at(-1)[1];
      return { ...line, latlngs };
    });
  }

  function drawRoutes() {
    const { plan, selected } = current;
    routeLayer.clearLayers();
    current.legLayers = [];
    plan.options.forEach((option, i) => {
      if (i === selected) return;
      for (const line of optionLines(option)) {
        if (!line) continue;
        L.polyline(line.latlngs, { color: "#7d8d9e", weight: 2, opacity: 0.55, dashArray: "4 5",
          className: "option-route", interactive: true })
          .bindTooltip(`Option ${i + 1}`, { sticky: true })
          .on("click", () => select(i))
          .addTo(routeLayer);
      }
    });
    const option = plan.options[selected];
    const lines = optionLines(option);
    const points = lines.flatMap((line) => line?.latlngs || []);
    option.legs.forEach((leg, k) => {
      const line = lines[k];
      if (!line) { current.legLayers.push(null); return; }
      L.polyline(line.latlngs, { color: "#ffffff", weight: 8, opacity: 0.9, interactive: false,
        className: "leg-casing" }).addTo(routeLayer);
      const layer = L.polyline(line.latlngs, {
        color: modeColour(leg.mode), weight: 4.5, opacity: 1, dashArray: line.exact ? null : "6 6",
        className: `leg-highlight mode-${leg.mode}`,
      }).bindTooltip(`Leg ${k + 1}: ${nodeName(leg.from)} → ${nodeName(leg.to)} (${MODE_WORDS[leg.mode] || leg.mode})`, { sticky: true })
        .on("mouseover", () => activateLeg(k, true))
        .on("mouseout", () => activateLeg(k, false))
        .addTo(routeLayer);
      layer.getElement()?.setAttribute("data-leg", String(k));
      current.legLayers.push(layer);
    });
    const middle = points.length ? L.latLngBounds(points).getCenter().lng : 0;
    // Transfers first, so that the two ends are drawn over a transfer next to them.
    option.legs.forEach((leg, k) => {
      if (k > 0 && lines[k]) stop(lines[k].latlngs[0], leg.from, "transfer", middle);
    });
    const ends = [];
    if (lines[0]) ends.push(stop(lines[0].latlngs[0], option.legs[0].from, "end", middle));
    if (lines.at(-1)) ends.push(stop(lines.at(-1).latlngs.at(-1), option.legs.at(-1).to, "end", middle));
    current.view = { points, ends };
    fitSelected();
  }

  /** Zoom to the selected option: all its legs and both ends with their labels in view. */
  function fitSelected() {
    if (!current?.view?.points.length) return;
    const boxes = current.view.ends.flatMap((marker) => {
      const r = marker.options.radius + marker.options.weight / 2;
      const latlng = marker.getLatLng();
      return [{ latlng, box: [-r, -r, r, r] }, { latlng, box: tooltipBox(marker.getTooltip()) }];
    });
    fitRoute(map, current.view.points, boxes, {
      maxZoom: 7, overlays: [document.getElementById("plan-legend")],
    });
  }

  function stop(latlng, nodeId, kind, middle) {
    const node = current.nodes.get(nodeId);
    const end = kind === "end";
    return L.circleMarker(latlng, {
      pane: "stops", radius: end ? 7 : 4.5, color: end ? "#ffffff" : "#0f2a44",
      weight: end ? 2.5 : 1.5, fillColor: end ? "#0f2a44" : "#ffffff", fillOpacity: 1,
      className: `leg-stop${end ? " leg-end" : ""}`,
    }).bindTooltip(end ? shortName(node?.name_en || nodeId)
      : (node ? `${node.name_en}${node.name_zh ? ` · ${node.name_zh}` : ""}` : nodeId),
    end // labels of the two ends point inwards, towards the rest of the route
      ? { direction: latlng[1] > middle ? "left" : "right", offset: [latlng[1] > middle ? -8 : 8, 0],
        permanent: true, className: "end-label" }
      : { direction: "top", offset: [0, -6] })
      .addTo(routeLayer);
  }

  function activateLeg(k, on) {
    const layer = current.legLayers?.[k];
    if (layer) {
      layer.setStyle({ weight: on ? 7 : 4.5 });
      if (on) layer.bringToFront();
    }
    results.querySelector(`#legs tr[data-leg="${k}"]`)?.classList.toggle("active", on);
  }

  // --- Legs -----------------------------------------------------------------------------------
  function place(id) {
    const node = current.nodes.get(id);
    return h("span", { class: "place" }, node?.name_en || id,
      node?.name_zh ? h("span", { class: "zh", lang: "zh" }, node.name_zh) : null);
  }

  function renderLegs() {
    const { plan, selected } = current;
    const option = plan.options[selected];
    const tz = (id) => current.nodes.get(id)?.timezone;
    const total = (key) => option.legs.reduce((sum, leg) => sum + leg[key], 0);
    const legs = h("table", { class: "legs-table stack-table" },
      h("caption", { class: "visually-hidden" }, `Legs of option ${selected + 1}`),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col", class: "num" }, "#"),
        h("th", { scope: "col" }, "Mode and service"),
        h("th", { scope: "col" }, "From"),
        h("th", { scope: "col" }, "To"),
        h("th", { scope: "col" }, "Departs / arrives (local time)"),
        h("th", { scope: "col", class: "num" }, "km"),
        h("th", { scope: "col", class: "num" }, `Cost (${plan.currency})`),
        h("th", { scope: "col", class: "num" }, "CO₂e kg"))),
      h("tbody", {}, option.legs.map((leg, k) => h("tr", {
        "data-leg": k, tabindex: 0,
        onmouseenter: () => activateLeg(k, true), onmouseleave: () => activateLeg(k, false),
        onfocus: () => activateLeg(k, true), onblur: () => activateLeg(k, false),
      },
      h("td", { class: "num leg-no", "data-label": "Leg" }, k + 1),
      h("td", { class: "leg-mode" }, modeTag(leg.mode), leg.service ? h("div", { class: "muted service" }, leg.service) : null),
      h("td", { class: "leg-place", "data-label": "From" }, place(leg.from)),
      h("td", { class: "leg-place", "data-label": "To" }, place(leg.to)),
      h("td", { class: "time wide", "data-label": "Departs / arrives" }, placeTime(leg.depart, tz(leg.from)),
        h("small", {}, placeTime(leg.arrive, tz(leg.to)))),
      h("td", { class: "num leg-fig", "data-label": "km" }, num(leg.distance_km)),
      h("td", { class: "num leg-fig", "data-label": `Cost (${plan.currency})` }, num(leg.cost),
        h("ul", { class: "charges muted" }, (leg.charges || []).map((c) => h("li", { title: c.basis },
          `${c.kind.replaceAll("_", " ")} ${num(c.amount)}`)))),
      h("td", { class: "num leg-fig", "data-label": "CO₂e kg" }, num(leg.co2e_kg, 1))))),
      h("tfoot", {}, h("tr", {},
        h("td", { colspan: 5 }, `Arrival ${placeTime(option.arrival, tz(option.legs.at(-1).to))}; 90% of shipments by ${placeTime(option.arrival_p90, tz(option.legs.at(-1).to))}`),
        h("td", { class: "num", "data-label": "km" }, num(total("distance_km"))),
        h("td", { class: "num", "data-label": "Cost" }, money(option.total_cost, plan.currency)),
        h("td", { class: "num", "data-label": "CO₂e kg" }, num(option.co2e_kg, 1)))));
    document.getElementById("legs").replaceChildren(
      h("div", { class: "legs-head" },
        h("h3", {}, `Legs of option ${selected + 1}`),
        h("span", { class: "muted" }, `${option.legs.length} legs · ${days(option.transit_hours)} days · ${money(option.total_cost, plan.currency)}`)),
      h("div", { class: "table-scroll" }, legs));
  }

  return {
    show() { ensureMap(); },
  };
}

/**
 * The nodes, and the ends of the plan's options that are not nodes (a city of several terminals,
 * a "lat,lon"), so that the map can draw the first and last legs and label both ends.
 */
async function withEndPlaces(plan, nodesById) {
  const ends = new Set(plan.options.flatMap((o) => [o.legs[0].from, o.legs.at(-1).to]));
  const missing = [...ends].filter((id) => !nodesById.has(id));
  if (!missing.length) return nodesById;
  const places = new Map(nodesById);
  const found = await Promise.all(missing.map((id) => store.placeOf(id).catch(() => null)));
  missing.forEach((id, i) => { if (found[i]) places.set(id, found[i]); });
  return places;
}

/** A parcel channel's kind in words. */
function kindWords(kind) {
  return { express: "International express", postal: "Postal", ecommerce_line: "E-commerce line",
    rail_parcel: "Rail parcels" }[kind] || kind;
}

/** A place name short enough for a label on the map. */
function shortName(name) {
  const plain = name.replace(/\s*\(.*\)$/, "");
  return plain.length > 26 ? `${plain.slice(0, 24)}…` : plain;
}

/** The borders and passages an option's summary names ("Alashankou, Suez"). */
function viaWords(summary) {
  const words = summary.split("; ").map((part) => part.match(/ via (.+)$/)?.[1]).filter(Boolean);
  return [...new Set(words.flatMap((w) => w.split(", ")))].join(", ");
}

async function fillChoices(form) {
  let options;
  try {
    options = await store.formOptions();
  } catch (error) {
    showError(error, { what: "the form's choices" });
    return;
  }
  const fill = (select, choices, initial) => {
    select.replaceChildren(...choices.map((c) =>
      h("option", { value: c.value, selected: c.value === initial }, c.label)));
  };
  fill(form.elements.cargo_class, options.cargo_classes, "general");
  fill(form.elements.customs_regime, options.customs_regimes, "general");
  fill(form.elements.currency, options.currencies.map((c) => ({ value: c, label: c })), "CNY");
  document.getElementById("modes-choices").replaceChildren(...options.modes.map((m) =>
    h("span", { class: "chip" },
      h("input", { type: "checkbox", id: `mode-${m.value}`, name: "modes", value: m.value, checked: true }),
      h("label", { for: `mode-${m.value}` }, h("span", { class: `swatch mode-${m.value}` }), m.label))));
  document.getElementById("contents-choices").replaceChildren(...options.contents.map((c) =>
    h("span", { class: "check" },
      h("input", { type: "checkbox", id: `contents-${c.value}`, name: "contents", value: c.value }),
      h("label", { for: `contents-${c.value}` }, c.label))));
  document.getElementById("avoid-choices").replaceChildren(...options.passages.map((p) =>
    h("span", { class: "check" },
      h("input", { type: "checkbox", id: `avoid-${p.value}`, name: "avoid", value: p.value }),
      h("label", { for: `avoid-${p.value}` }, p.label))));
  form.elements.weight_kg.min = String(options.weight_kg.gt ?? 0);
  form.elements.volume_m3.min = String(options.volume_m3.gt ?? 0);
}
