/**
 * A WebSocket to the API's `/ws/` routes that comes back by itself.
 *
 * The browser's session cookie signs the socket in (the server checks the Origin), the
 * organization goes in `?organization=`. When the socket closes for any reason but a refusal
 * that a retry cannot fix, it reconnects with a growing delay (0.5 s doubling up to 5 s), and
 * `query()` is asked again each time, so a chat reconnects with `?after=<last seq shown>` and
 * misses nothing.
 */

import { currentOrganization } from "./api.js";

/** Close codes after which retrying cannot succeed (not found; refused for good). */
const FINAL_CODES = new Set([4404]);

export class LiveSocket {
  /**
   * @param {string} path path under /ws/ (e.g. `notifications/`)
   * @param {object} handlers `message(data)`, `state(state)` with `live` / `reconnecting` /
   *   `closed`, and `query()` returning extra query parameters for each (re)connection
   */
  constructor(path, handlers) {
    this.path = path;
    this.handlers = handlers;
    this.delay = 500;
    this.stopped = false;
    this.socket = null;
    this.timer = null;
    this.connect();
  }

  /** The socket's URL for the next connection. */
  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const params = new URLSearchParams();
    const organization = currentOrganization();
    if (organization) params.set("organization", organization);
    const extra = this.handlers.query ? this.handlers.query() : {};
    for (const [key, value] of Object.entries(extra)) params.set(key, value);
    return `${scheme}//${location.host}/ws/${this.path}?${params}`;
  }

  /** Open a connection (called again after each close until stopped). */
  connect() {
    if (this.stopped) return;
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.delay = 500;
      this.handlers.state?.("live");
    });
    socket.addEventListener("message", (event) => {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      this.handlers.message?.(data);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped || FINAL_CODES.has(event.code)) {
        this.handlers.state?.("closed");
        return;
      }
      this.handlers.state?.("reconnecting");
      this.timer = setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 5000);
    });
  }

  /** Send a JSON message; false when the socket is not open. */
  send(data) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(data));
    return true;
  }

  /** Close for good (leaving the page). */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000);
    this.socket = null;
  }
}
