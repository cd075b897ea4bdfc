// Calls to the Shudao API with the key kept in this browser session, and API errors in the
// words of a dispatcher (problem+json: title, detail, and for 422 `errors` with field paths).

const KEY_STORAGE = "shudao.apiKey";

export function getKey() {
  return sessionStorage.getItem(KEY_STORAGE) || "";
}

export function setKey(key) {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

export class ApiError extends Error {
  constructor(status, problem, retryAfterS) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.retryAfterS = retryAfterS;
  }
}

export async function api(path, { method = "GET", body, signal, auth = true } = {}) {
  const headers = { Accept: "application/json, application/problem+json" };
  const key = getKey();
  if (auth && key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, { title: "Unreachable", detail: String(error) });
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const retry = Number.parseInt(response.headers.get("Retry-After") || "", 10);
    throw new ApiError(response.status, data || {}, Number.isFinite(retry) ? retry : null);
  }
  return data;
}

// --- Plain words -------------------------------------------------------------------------------

const FIELD_WORDS = {
  origin: "Origin", destination: "Destination", weight_kg: "Weight", volume_m3: "Volume",
  ready_at: "Ready from", deadline: "Deliver by", cargo_class: "Cargo class",
  customs_regime: "Customs regime", modes: "Modes allowed", forbidden_modes: "Modes",
  avoid: "Passages to avoid", currency: "Currency", pieces: "Pieces", max_options: "Options",
  first_week: "From week", last_week: "To week",
};

function numberWords(text) {
  const n = Number(text);
  return Number.isFinite(n) ? n.toLocaleString("en-GB") : text;
}

/** One validation message of the API, rephrased for a person filling in the form. */
export function plainMessage(field, message) {
  let m = String(message || "").trim();
  const prefix = `${field}: `;
  if (field && m.startsWith(prefix)) m = m.slice(prefix.length);
  m = m.replace(/^Value error, /, "");
  const rules = [
    [/^Field required$/i, () => "This is required."],
    [/^Input should be greater than or equal to (\S+)$/, (x) => `Must be at least ${numberWords(x)}.`],
    [/^Input should be greater than (\S+)$/, (x) => `Must be more than ${numberWords(x)}.`],
    [/^Input should be less than or equal to (\S+)$/, (x) => `Must be at most ${numberWords(x)}.`],
    [/^Input should be less than (\S+)$/, (x) => `Must be less than ${numberWords(x)}.`],
    [/^Input should be a (valid|finite) number.*$/, () => "Enter a number."],
    [/^Input should be a valid integer.*$/, () => "Enter a whole number."],
    [/^Input should be (('[^']*'(, | or )?)+)$/, () => "Choose one of the listed values."],
    [/^Input should have timezone info$/, () => "Enter a date and a time."],
    [/^Input should be a valid datetime.*$/, () => "Enter a date and a time."],
    [/^String should have at least 1 character$/, () => "This is required."],
    [/^List should have at most (\d+) items.*$/, (x) => `Choose at most ${x}.`],
  ];
  for (const [pattern, say] of rules) {
    const match = m.match(pattern);
    if (match) return say(match[1]);
  }
  m = m.replace(/^got (.*?); expected /, "Got $1; expected ");
  return m.charAt(0).toUpperCase() + m.slice(1);
}

function seconds(n) {
  return n === 1 ? "1 second" : `${n} seconds`;
}

/**
 * What to tell the user about an error: `banner` (a sentence) and `fields` (field path ->
 * message) for the form to show next to its inputs.
 */
export function explain(error, { what = "this request" } = {}) {
  if (!(error instanceof ApiError)) {
    return { banner: `Something went wrong in this page: ${error.message || error}`, fields: [] };
  }
  const p = error.problem || {};
  const detail = p.detail ? String(p.detail) : "";
  switch (error.status) {
    case 0:
      return {
        banner: "The Shudao service cannot be reached. Check that it is running, then try again.",
        fields: [],
      };
    case 401:
      return {
        banner: getKey()
          ? "Your API key was not accepted: it is unknown or has been revoked. Check the key, or ask your administrator for a new one."
          : "Enter your API key at the top of the page first.",
        fields: [], key: true,
      };
    case 403:
      return { banner: `Your key is not allowed to do this. ${detail}`, fields: [] };
    case 404:
      return { banner: `Not found. ${detail}`, fields: [] };
    case 409:
      return { banner: detail || "This conflicts with the current state; reload and try again.", fields: [] };
    case 413:
      return { banner: "The request is too large for the service.", fields: [] };
    case 422: {
      const fields = (p.errors || []).map((e) => ({
        field: String(e.field || "body"),
        message: plainMessage(String(e.field || "").split(".")[0], e.message),
      }));
      return {
        banner: fields.length
          ? `Please correct ${fields.length === 1 ? "the highlighted field" : "the highlighted fields"}.`
          : `The service could not accept ${what}. ${detail}`,
        fields,
      };
    }
    case 429: {
      const wait = error.retryAfterS ?? 60;
      return {
        banner: `Too many requests with this key. Please wait ${seconds(wait)} and try again.`,
        fields: [], retryAfterS: wait,
      };
    }
    default:
      if (error.status >= 500) {
        return {
          banner: `The service failed on ${what} (error ${error.status}). Try again in a moment; if it keeps happening, tell your administrator.`,
          fields: [],
        };
      }
      return { banner: detail || p.title || `The request failed (HTTP ${error.status}).`, fields: [] };
  }
}

export function fieldWord(path) {
  const root = String(path).split(".")[0];
  return FIELD_WORDS[root] || root;
}
