// The dashboard's only door to the server: the public /ca/api/v0 API with the API key.
const KEY = "callwright.apiKey";
export const BASE = "/ca/api/v0";

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body; // the whole error body: some carry details (a CSV's rejected rows)
  }
}

export const session = {
  get key() { return sessionStorage.getItem(KEY); },
  set key(value) {
    if (value) sessionStorage.setItem(KEY, value);
    else sessionStorage.removeItem(KEY);
  },
};

function messageOf(body, status) {
  if (body && typeof body === "object") {
    if (body.error && body.error.message) return body.error.message;
    if (typeof body.detail === "string") return body.detail;
    if (Array.isArray(body.detail) && body.detail[0]) return body.detail[0].msg || "Invalid request";
  }
  return `Request failed (${status})`;
}

/** Call the API; JSON in and out unless `body` is FormData. Throws ApiError with the server's words. */
export async function api(path, { method = "GET", body, query } = {}) {
  const url = new URL(BASE + path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  }
  const headers = { "X-API-KEY": session.key || "" };
  let payload = body;
  if (body !== undefined && !(body instanceof FormData)) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(url, { method, headers, body: payload });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!response.ok) throw new ApiError(response.status, messageOf(data, response.status), data);
  return data;
}
