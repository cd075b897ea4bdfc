// Warehouses for coordinators: each warehouse's weekly capacity against its confirmed bookings and
// those still pending (held: awaiting confirmation, taking capacity; proposed: taking none yet).

import { api, explain, getKey } from "./api.js";
import { capacityChart } from "./charts.js";
import * as store from "./store.js";
import { showError } from "./ui.js";
import { KIND_WORDS, h, isoWeek, num } from "./util.js";

function weekMonday(week) {
  const [year, w] = week.split("-W").map(Number);
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const monday = new Date(jan4);
  monday.setUTCDate(jan4.getUTCDate() - ((jan4.getUTCDay() || 7) - 1) + (w - 1) * 7);
  return monday;
}

function addWeeks(week, count) {
  const monday = weekMonday(week);
  monday.setUTCDate(monday.getUTCDate() + count * 7);
  return isoWeek(new Date(monday.getUTCFullYear(), monday.getUTCMonth(), monday.getUTCDate()));
}

export function initWarehouses() {
  const form = document.getElementById("wh-form");
  const list = document.getElementById("wh-list");
  const firstWeek = document.getElementById("wh-first-week");
  const weekError = document.getElementById("wh-first-week-error");
  firstWeek.value = isoWeek();
  let shown = null; // { warehouses, ledgers, nodes }
  const openTables = new Set(); // warehouses whose weekly figures are unfolded

  const unit = () => form.elements.unit.value;
  const fmt = (value) => num(value, unit() === "pallets" ? 0 : 1);

  function card(warehouse, ledger, node) {
    const weeks = ledger.weeks;
    const u = unit();
    const unitWord = u === "pallets" ? "pallets" : "m³";
    const now = weeks[0];
    const pending = (w) => w[`held_${u}`] + w[`proposed_${u}`];
    const tightest = weeks.reduce((a, b) => (b[`free_${u}`] < a[`free_${u}`] ? b : a), weeks[0]);
    const table = h("table", { class: "wh-table" },
      h("caption", { class: "visually-hidden" }, `${warehouse.name}: capacity and bookings per week`),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Week"),
        h("th", { scope: "col", class: "num" }, "Capacity"),
        h("th", { scope: "col", class: "num" }, "Confirmed"),
        h("th", { scope: "col", class: "num" }, "Held"),
        h("th", { scope: "col", class: "num" }, "Proposed"),
        h("th", { scope: "col", class: "num" }, "Free"))),
      h("tbody", {}, weeks.map((w) => h("tr", { class: w[`free_${u}`] <= 0 ? "full" : "" },
        h("th", { scope: "row" }, w.week, w.overridden ? h("span", { class: "muted", title: "Capacity set for this week" }, " *") : null),
        h("td", { class: "num" }, fmt(w[u])),
        h("td", { class: "num" }, fmt(w[`confirmed_${u}`])),
        h("td", { class: "num" }, fmt(w[`held_${u}`])),
        h("td", { class: "num" }, fmt(w[`proposed_${u}`])),
        h("td", { class: "num" }, fmt(w[`free_${u}`]))))));
    return h("article", { class: "panel wh-card", "data-warehouse": warehouse.id, "aria-labelledby": `wh-${warehouse.id}` },
      h("header", {},
        h("div", {},
          h("h2", { id: `wh-${warehouse.id}` }, warehouse.name),
          h("p", { class: "where" }, node
            ? `${node.name_en}${node.name_zh ? ` · ${node.name_zh}` : ""} · ${KIND_WORDS[node.kind] || node.kind} · ${warehouse.node_id}`
            : warehouse.node_id)),
        warehouse.owned ? h("span", { class: "owned" }, "Your organisation") : null),
      h("div", { class: "wh-stats" },
        h("div", {}, h("strong", {}, fmt(now[u])), `${unitWord} capacity in ${now.week}`),
        h("div", { class: "s-confirmed" }, h("strong", { class: "confirmed-now" }, fmt(now[`confirmed_${u}`])), "confirmed"),
        h("div", { class: "s-pending" }, h("strong", { class: "pending-now" }, fmt(pending(now))), "pending: held + proposed"),
        h("div", { class: `s-free${tightest[`free_${u}`] <= 0.1 * tightest[u] ? " tight" : ""}` },
          h("strong", {}, fmt(tightest[`free_${u}`])), `free in the fullest week, ${tightest.week}`)),
      h("div", { class: "wh-chart" }, capacityChart(weeks, u)),
      h("div", { class: "wh-legend", "aria-hidden": "true" },
        h("span", {}, h("i", { class: "l-confirmed" }), "Confirmed"),
        h("span", {}, h("i", { class: "l-held" }), "Held, awaiting confirmation"),
        h("span", {}, h("i", { class: "l-proposed" }), "Proposed"),
        h("span", {}, h("i", { class: "l-capacity" }), "Capacity")),
      h("details", {
        open: openTables.has(warehouse.id),
        ontoggle: (event) => {
          if (event.target.open) openTables.add(warehouse.id); else openTables.delete(warehouse.id);
        },
      }, h("summary", {}, "Weekly figures"), h("div", { class: "table-scroll" }, table)));
  }

  function render() {
    if (!shown) return;
    const { warehouses, ledgers, nodes } = shown;
    if (!warehouses.length) {
      list.replaceChildren(h("div", { class: "panel empty-state" },
        h("h2", {}, "No warehouses yet"),
        h("p", {}, "Coordinators register their organisation's warehouses with POST /v1/warehouses; they appear here with their weekly capacity and bookings.")));
      return;
    }
    list.replaceChildren(...warehouses.map((w, i) => (ledgers[i].ok
      ? card(w, ledgers[i].value, nodes.get(w.node_id))
      : h("article", { class: "panel wh-card" }, h("h2", {}, w.name),
        h("p", { class: "field-error" }, explain(ledgers[i].error).banner)))));
  }

  let latest = 0; // a slower earlier answer must not replace a later one

  async function load() {
    const request = ++latest;
    weekError.hidden = true;
    firstWeek.removeAttribute("aria-invalid");
    const first = firstWeek.value || isoWeek();
    const last = addWeeks(first, Number(form.elements.weeks.value) - 1);
    list.replaceChildren(h("p", { class: "muted" }, "Loading warehouses…"));
    let warehouses, nodes;
    try {
      [warehouses, nodes] = await Promise.all([api("/v1/warehouses"),
        store.nodes().then((n) => n.byId).catch(() => new Map())]);
    } catch (error) {
      if (request !== latest) return;
      list.replaceChildren();
      showError(error, { what: "the warehouse list" });
      return;
    }
    const query = `first_week=${encodeURIComponent(first)}&last_week=${encodeURIComponent(last)}`;
    const ledgers = await Promise.all(warehouses.map((w) =>
      api(`/v1/warehouses/${encodeURIComponent(w.id)}/capacity?${query}`)
        .then((value) => ({ ok: true, value }), (error) => ({ ok: false, error }))));
    if (request !== latest) return;
    const failed = ledgers.find((l) => !l.ok && l.error.status === 422);
    if (failed) {
      const said = explain(failed.error);
      weekError.textContent = said.fields[0]?.message || said.banner;
      weekError.hidden = false;
      firstWeek.setAttribute("aria-invalid", "true");
    }
    shown = { warehouses, ledgers, nodes };
    render();
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  for (const radio of form.querySelectorAll("input[name=unit]")) radio.addEventListener("change", render);

  return {
    show() {
      if (!getKey()) {
        list.replaceChildren(h("div", { class: "panel empty-state" },
          h("h2", {}, "Enter your API key"),
          h("p", {}, "Enter your API key at the top of the page to see the warehouses.")));
        shown = null;
        return;
      }
      if (!shown) load();
    },
    reset() { shown = null; },
  };
}
