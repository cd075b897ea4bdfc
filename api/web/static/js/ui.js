// The page-wide message banner, and what to do when the API refuses the key or asks us to wait.

import { explain } from "./api.js";

const bannerEl = () => document.getElementById("banner");
let waitTimer = null;
let bannerShowsWait = false;
const keyListeners = [];

export function banner(text, kind = "error") {
  const el = bannerEl();
  bannerShowsWait = false;
  document.getElementById("banner-text").textContent = text;
  el.className = `banner${kind === "error" ? "" : ` ${kind}`}`;
  el.hidden = false;
}

export function clearBanner() {
  bannerShowsWait = false;
  bannerEl().hidden = true;
}

export function onKeyRejected(listener) {
  keyListeners.push(listener);
}

/**
 * Show an API error: in the banner, and tell the key form when the key was refused. For a 429
 * the banner counts down and `whileWaiting(true/false)` brackets the wait (to disable a button).
 * Returns the explanation (its `fields` are for the caller's form).
 */
export function showError(error, { what, whileWaiting } = {}) {
  const said = explain(error, { what });
  banner(said.banner, said.retryAfterS ? "warn" : "error");
  if (said.key) keyListeners.forEach((listener) => listener());
  if (said.retryAfterS) {
    let left = said.retryAfterS;
    bannerShowsWait = true;
    clearInterval(waitTimer);
    whileWaiting?.(true);
    waitTimer = setInterval(() => {
      left -= 1;
      if (left <= 0) {
        clearInterval(waitTimer);
        whileWaiting?.(false);
        if (bannerShowsWait) banner("You can send requests again.", "info");
      } else if (bannerShowsWait) {
        document.getElementById("banner-text").textContent =
          `Too many requests with this key. Please wait ${left} second${left === 1 ? "" : "s"} and try again.`;
      }
    }, 1000);
  }
  return said;
}

export function initBanner() {
  document.getElementById("banner-close").addEventListener("click", clearBanner);
}
