// The page: API key (kept for this browser session only), the three views behind #plan,
// #network and #warehouses.

import { explain, getKey, setKey } from "./api.js";
import { initNetwork } from "./network.js";
import { initPlanner } from "./planner.js";
import * as store from "./store.js";
import { banner, clearBanner, initBanner, onKeyRejected } from "./ui.js";
import { initWarehouses } from "./warehouses.js";

const VIEWS = ["plan", "network", "warehouses"];

function start() {
  initBanner();
  const views = { plan: initPlanner(), network: initNetwork(), warehouses: initWarehouses() };
  const keyForm = document.getElementById("key-form");
  const keyInput = document.getElementById("api-key");
  const keyStatus = document.getElementById("key-status");
  const forget = document.getElementById("key-forget");

  function current() {
    const name = location.hash.replace("#", "");
    return VIEWS.includes(name) ? name : "plan";
  }

  function show() {
    const name = current();
    for (const view of VIEWS) {
      document.getElementById(`view-${view}`).hidden = view !== name;
      const tab = document.querySelector(`.tabs a[data-view="${view}"]`);
      if (view === name) tab.setAttribute("aria-current", "page");
      else tab.removeAttribute("aria-current");
    }
    document.title = `Shudao · ${document.querySelector(`.tabs a[data-view="${name}"]`).textContent}`;
    views[name].show();
  }

  function keyState(text, kind) {
    keyStatus.textContent = text;
    keyStatus.className = `key-status${kind ? ` ${kind}` : ""}`;
    if (kind === "bad") keyInput.setAttribute("aria-invalid", "true");
    else keyInput.removeAttribute("aria-invalid");
    forget.hidden = !getKey();
  }

  async function checkKey() {
    if (!getKey()) {
      keyState("No key yet", "");
      return false;
    }
    keyState("Checking…", "");
    try {
      const summary = await store.summary();
      keyState("✓ Accepted", "ok");
      keyStatus.title = `Dataset ${summary.version}`;
      return true;
    } catch (error) {
      const said = explain(error, { what: "the key check" });
      keyState(error.status === 401 ? "✗ Not accepted" : "Not checked", "bad");
      banner(said.banner);
      return false;
    }
  }

  onKeyRejected(() => {
    keyState("✗ Not accepted", "bad");
  });

  keyForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = keyInput.value.trim();
    setKey(key);
    store.resetKeyed();
    views.network.reset();
    views.warehouses.reset();
    clearBanner();
    if (!key) {
      keyState("Enter a key", "bad");
      keyInput.focus();
      return;
    }
    if (await checkKey()) show();
  });

  forget.addEventListener("click", () => {
    setKey("");
    keyInput.value = "";
    store.resetKeyed();
    views.network.reset();
    views.warehouses.reset();
    keyState("Key forgotten", "");
    keyInput.focus();
  });

  window.addEventListener("hashchange", show);
  if (getKey()) keyInput.value = getKey();
  show();
  checkKey();
  if (!getKey()) keyInput.focus();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
