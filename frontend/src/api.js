/**
 * The console's only way to the server: the Valar API under /api/v1/.
 *
 * Requests carry the session cookie (same origin) and, for unsafe methods, the CSRF token read
 * from the `csrftoken` cookie into `X-CSRFToken`; nothing is kept in localStorage. The chosen
 * organization is sent as `X-Organization`. Errors come back as RFC 9457 problem details and
 * are thrown as {@link ApiError} so forms can put each message next to its field.
 */

const BASE = "/api/v1/";
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/** The organization every request is made in (null: the caller's default). */
let organization = null;

/** Listeners told when the API answers 401 (the session ended). */
const unauthorizedListeners = new Set();

/** A problem-details answer from the API. */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status
   * @param {object} problem the parsed problem body (may be empty)
   */
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || "error";
    this.detail = problem.detail || "";
    this.errors = problem.errors || {};
    this.problem = problem;
  }
}

/** Read a cookie by name (the CSRF token is the only one readable by scripts). */
export function cookie(name) {
  const prefix = `${name}=`;
  for (const part of document.cookie.split(";")) {
    const item = part.trim();
    if (item.startsWith(prefix)) return decodeURIComponent(item.slice(prefix.length));
  }
  return null;
}

/** Use this organization (id) for every later request and socket. */
export function setOrganization(id) {
  organization = id;
}

/** The organization requests are made in. */
export function currentOrganization() {
  return organization;
}

/** Call `listener` whenever the API says the caller is not signed in. */
export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener);
}

/** Make sure the CSRF cookie exists (the API sets it on this GET). */
export async function ensureCsrf() {
  if (!cookie("csrftoken")) await request("GET", "auth/csrf/");
}

/**
 * Send one request to the API and return the parsed JSON body (null for 204).
 * @param {string} method HTTP method
 * @param {string} path path under /api/v1/ (no leading slash) or an absolute API URL
 * @param {object} [body] JSON body
 * @param {object} [query] query parameters (empty values are left out)
 */
export async function request(method, path, body, query) {
  let url = path.startsWith("/") || path.startsWith("http") ? path : BASE + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== "") params.append(key, value);
    }
    const text = params.toString();
    if (text) url += (url.includes("?") ? "&" : "?") + text;
  }
  const headers = { Accept: "application/json" };
  if (organization) headers["X-Organization"] = organization;
  if (!SAFE.has(method)) {
    const token = cookie("csrftoken");
    if (token) headers["X-CSRFToken"] = token;
  }
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json() : null;
  if (!response.ok) {
    const error = new ApiError(response.status, data || {});
    if (response.status === 401) unauthorizedListeners.forEach((listener) => listener(error));
    throw error;
  }
  return data;
}

/** GET shorthand. */
export const get = (path, query) => request("GET", path, undefined, query);
/** POST shorthand. */
export const post = (path, body) => request("POST", path, body === undefined ? {} : body);
/** PATCH shorthand. */
export const patch = (path, body) => request("PATCH", path, body);
/** PUT shorthand. */
export const put = (path, body) => request("PUT", path, body);
/** DELETE shorthand. */
export const del = (path) => request("DELETE", path);
