/**
 * Notifications: the bell in the header (the unread count, live over `ws/notifications/`)
 * and the list page, which also grows live and marks notifications read.
 */

import { get, post } from "../api.js";
import { h, replace, when } from "../dom.js";
import { LiveSocket } from "../socket.js";

/** The header's bell: counts unread notifications and tells listeners of new ones. */
export class Bell {
  /**
   * @param {HTMLElement} count the element showing the number
   * @param {HTMLElement} link the bell's link (its label says the count)
   */
  constructor(count, link) {
    this.count = count;
    this.link = link;
    this.unread = 0;
    this.listeners = new Set();
    this.socket = new LiveSocket("notifications/", {
      message: (data) => {
        if (data.type === "hello") this.set(data.unread);
        else if (data.type === "notification") {
          if (!data.notification.read_at) this.set(this.unread + 1);
          this.listeners.forEach((listener) => listener(data.notification));
        }
      },
    });
  }

  /** Show `unread` as the count. */
  set(unread) {
    this.unread = Math.max(0, unread);
    this.count.textContent = String(this.unread);
    this.count.classList.toggle("zero", this.unread === 0);
    this.link.setAttribute("aria-label", `Notifications, ${this.unread} unread`);
  }

  /** Call `listener(notification)` for each new one; returns the unsubscribe function. */
  listen(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Close the socket (sign-out, organization change). */
  stop() {
    this.socket.stop();
  }
}

/** One notification as a list item, with a button marking it read. */
function item(notification, bell) {
  const read = h("button", { type: "button", class: "secondary small", text: "Mark read", hidden: Boolean(notification.read_at), "aria-label": `Mark "${notification.title}" read` });
  const element = h(
    "li",
    { class: `notification level-${notification.level}${notification.read_at ? "" : " unread"}`, dataset: { id: notification.id } },
    h("strong", { text: notification.title }),
    notification.body ? h("span", { class: "block", text: notification.body }) : null,
    h("span", { class: "muted small", text: `${notification.kind} · ${when(notification.created_at)}` }),
    read,
  );
  read.addEventListener("click", async () => {
    try {
      await post(`notifications/${notification.id}/read/`);
    } catch {
      return;
    }
    read.hidden = true;
    element.classList.remove("unread");
    if (bell) bell.set(bell.unread - 1);
  });
  return element;
}

/** The caller's notifications, newest first, growing live. */
export async function renderNotifications(main, bell) {
  const list = h("ul", { id: "notification-list", class: "cards" });
  const readAll = h("button", { type: "button", id: "read-all", class: "secondary", text: "Mark all read" });
  readAll.addEventListener("click", async () => {
    try {
      await post("notifications/read-all/");
    } catch {
      return;
    }
    for (const button of list.querySelectorAll("button")) button.hidden = true;
    for (const element of list.querySelectorAll(".unread")) element.classList.remove("unread");
    if (bell) bell.set(0);
  });
  replace(main, h("div", { class: "row spread" }, h("h1", { text: "Notifications" }), readAll), list);
  let page;
  try {
    page = await get("notifications/", { page_size: 50 });
  } catch (error) {
    replace(list, h("li", { class: "form-error", role: "alert", text: `Could not load notifications: ${error.message}` }));
    return undefined;
  }
  replace(list, page.results.map((notification) => item(notification, bell)));
  if (!page.results.length) list.append(h("li", { class: "muted empty", text: "Nothing yet." }));
  return bell ? bell.listen((notification) => {
    list.querySelector(".empty")?.remove();
    list.prepend(item(notification, bell));
  }) : undefined;
}
