// Type-ahead over node names (English, Chinese, aliases, ids) with /v1/network/search, as an
// ARIA 1.2 combobox: arrows move through the list, Enter picks, Escape closes.

import { api, explain } from "./api.js";
import { h, KIND_WORDS } from "./util.js";

export function typeahead(input, { onPick } = {}) {
  const list = h("ul", { id: `${input.id}-list`, role: "listbox", class: "listbox", hidden: true,
    "aria-label": `Places matching ${input.labels?.[0]?.textContent || input.id}` });
  const wrap = h("div", { class: "combo-wrap" });
  input.before(wrap);
  wrap.append(input, list);
  const picked = h("p", { class: "picked", id: `${input.id}-picked`, hidden: true });
  wrap.after(picked);
  const hint = document.getElementById(`${input.id}-hint`);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-describedby",
    `${input.getAttribute("aria-describedby") || ""} ${picked.id}`.trim());

  let matches = [];
  let active = -1;
  let timer = null;
  let controller = null;

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function setActive(index) {
    const items = [...list.querySelectorAll("[role=option]")];
    if (!items.length) return;
    active = (index + items.length) % items.length;
    items.forEach((item, i) => item.setAttribute("aria-selected", String(i === active)));
    input.setAttribute("aria-activedescendant", items[active].id);
    items[active].scrollIntoView({ block: "nearest" });
  }

  function pick(match) {
    input.value = match.name_zh ? `${match.name_en} · ${match.name_zh}` : match.name_en;
    input.dataset.nodeId = match.id;
    picked.textContent = `✓ ${match.id} · ${KIND_WORDS[match.kind] || match.kind} · ${match.country}`;
    picked.hidden = false;
    if (hint) hint.hidden = true;
    close();
    onPick?.(match);
  }

  function show(items, note) {
    list.replaceChildren();
    matches = items;
    if (!items.length) {
      list.append(h("li", { class: "opt-empty", role: "presentation" }, note || "No place matches."));
    }
    items.forEach((m, i) => {
      list.append(h("li", {
        id: `${input.id}-opt-${i}`, role: "option", "aria-selected": "false",
        onmousedown: (event) => { event.preventDefault(); pick(m); },
      },
      h("span", { class: "opt-name" }, m.name_en, m.name_zh ? h("span", { class: "zh", lang: "zh" }, m.name_zh) : null),
      h("span", { class: "opt-meta" },
        h("span", { class: `swatch dot kind-${m.kind}` }),
        `${KIND_WORDS[m.kind] || m.kind} · ${m.country} · ${m.id}`)));
    });
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    active = -1;
  }

  async function search() {
    const q = input.value.trim();
    if (!q) { close(); return; }
    controller?.abort();
    controller = new AbortController();
    try {
      const found = await api(`/v1/network/search?q=${encodeURIComponent(q)}&limit=8`,
        { signal: controller.signal });
      if (document.activeElement === input) show(found);
    } catch (error) {
      if (error.name === "AbortError") return;
      const { banner } = explain(error, { what: "the place search" });
      if (document.activeElement === input) show([], banner);
    }
  }

  input.addEventListener("input", () => {
    delete input.dataset.nodeId;
    picked.hidden = true;
    if (hint) hint.hidden = false;
    clearTimeout(timer);
    timer = setTimeout(search, 160);
  });
  input.addEventListener("keydown", (event) => {
    const open = !list.hidden && matches.length > 0;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      if (list.hidden) search(); else setActive(active + 1);
    } else if (event.key === "ArrowUp" && open) {
      event.preventDefault();
      setActive(active - 1);
    } else if (event.key === "Enter" && open) {
      event.preventDefault();
      pick(matches[Math.max(active, 0)]);
    } else if (event.key === "Escape" && !list.hidden) {
      event.preventDefault();
      close();
    } else if (event.key === "Tab" && open && active >= 0) {
      pick(matches[active]);
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 120));

  return {
    /** The node id if a place was picked, else the text (the planner resolves names too). */
    value: () => input.dataset.nodeId || input.value.trim(),
    set(match) { pick(match); },
    clear() { input.value = ""; delete input.dataset.nodeId; picked.hidden = true; },
  };
}
