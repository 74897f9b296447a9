/**
 * The console's entry: the page frame (header with organization, bell and sign-out; the
 * navigation; the main region), the hash router and the live notifications socket.
 *
 * Routes: `#/dashboards`, `#/dashboards/<id>`, `#/inbox` and `#/inbox/<chat>` (agents),
 * `#/support` and `#/support/<chat>` (a member's own chats), `#/notifications`.
 */

import "./style.css";
import { onUnauthorized } from "./api.js";
import { bellIcon, h, replace, select } from "./dom.js";
import { session, load, choose, signOut, can, isAgent } from "./session.js";
import { renderSignIn } from "./views/signin.js";
import { renderDashboards, renderDashboard } from "./views/dashboards.js";
import { renderChats, renderChat } from "./views/chats.js";
import { renderNotifications, Bell } from "./views/notifications.js";
import { renderFirstOrganization } from "./views/organization.js";

const root = document.getElementById("app");
/** Cleanup of the current view (its sockets), run before the next one renders. */
let leave = null;
let bell = null;
/** Counts route changes, so a slow view's cleanup is run if it arrives after the next one. */
let routeToken = 0;

/** Navigate to a hash route. */
export function go(route) {
  if (location.hash === `#${route}`) route_();
  else location.hash = route;
}

/** The links of the navigation, by what the member may use. */
function links() {
  const items = [];
  if (can("insights", "view")) items.push(["#/dashboards", "Dashboards"]);
  if (isAgent()) items.push(["#/inbox", "Inbox"]);
  else if (can("support", "view")) items.push(["#/support", "Support"]);
  items.push(["#/notifications", "Notifications"]);
  return items;
}

/** Show a passing message in the page's alert region (errors outside any form). */
function notice(text) {
  const region = document.getElementById("notice");
  if (!region) return;
  region.textContent = text;
  region.hidden = false;
}

/** A page the console could not load (the server unreachable, throttled, failing). */
function showFailure(error) {
  const retry = h("button", { type: "button", text: "Try again", onclick: () => location.reload() });
  replace(root, h("main", { id: "main", class: "signin" }, h("div", { class: "card narrow" }, h("h1", { text: "The console could not load" }), h("p", { class: "form-error", role: "alert", text: error?.message || "The server could not be reached." }), retry)));
}

/** Whether the member may open a section (the navigation shows only those). */
function allowed(section) {
  return links().some(([href]) => href === `#/${section}`);
}

/** The default route for the member. */
function home() {
  return links()[0][0].slice(1);
}

/** Build the signed-in frame once per sign-in / organization change. */
function frame() {
  // Clients see no organization list (the API gives them none): they stay in their own.
  let orgPicker = null;
  if (session.organizations.length) {
    const orgSelect = select(
      "org-select",
      session.organizations.map((org) => [org.id, org.name]),
      session.organization?.id,
    );
    orgSelect.addEventListener("change", async () => {
      try {
        await choose(orgSelect.value);
      } catch (error) {
        orgSelect.value = session.organization?.id || "";
        notice(`Could not switch organization: ${error.message}`);
        return;
      }
      start();
    });
    orgPicker = h("div", { class: "org" }, h("label", { for: "org-select", text: "Organization" }), orgSelect);
  }
  const count = h("span", { id: "bell-count", class: "badge", text: "0" });
  const bellLink = h("a", { id: "bell", href: "#/notifications", class: "bell", "aria-label": "Notifications" }, bellIcon(), count);
  const signout = h("button", { id: "signout", type: "button", class: "secondary", text: "Sign out" });
  signout.addEventListener("click", async () => {
    stop();
    await signOut();
    showSignIn();
  });
  const nav = h("nav", { "aria-label": "Main" }, h("ul", {}, links().map(([href, text]) => h("li", {}, h("a", { href, text })))));
  const header = h(
    "header",
    { class: "top" },
    h("a", { class: "brand", href: `#${home()}`, text: "Valar" }),
    orgPicker,
    h("div", { class: "actions" }, bellLink, h("span", { class: "who", text: session.user.email }), signout),
  );
  const main = h("main", { id: "main", tabindex: "-1" });
  const alert = h("p", { id: "notice", class: "form-error notice", role: "alert", hidden: true });
  replace(root, h("a", { class: "skip", href: "#main", text: "Skip to content", onclick: (event) => { event.preventDefault(); main.focus(); } }), header, nav, alert, main);
  bell = new Bell(count, bellLink);
}

/** Stop the current view and the bell. */
function stop() {
  if (leave) leave();
  leave = null;
  if (bell) bell.stop();
  bell = null;
}

/** Show the sign-in form. */
function showSignIn() {
  document.body.dataset.signedIn = "false";
  renderSignIn(root, async () => {
    await load();
    start();
  });
}

/** (Re)build the frame and render the current route. */
function start() {
  stop();
  document.body.dataset.signedIn = "true";
  if (!session.permissions) {
    // A member of no organization: only the form creating their first one (and sign-out).
    const signout = h("button", { id: "signout", type: "button", class: "secondary", text: "Sign out" });
    signout.addEventListener("click", async () => {
      await signOut();
      showSignIn();
    });
    const main = h("main", { id: "main", tabindex: "-1" });
    replace(root, h("header", { class: "top" }, h("span", { class: "brand", text: "Valar" }), h("div", { class: "actions" }, h("span", { class: "who", text: session.user.email }), signout)), main);
    renderFirstOrganization(main, async () => {
      await load();
      start();
    });
    return;
  }
  frame();
  if (!location.hash || location.hash === "#" || location.hash === "#/") {
    history.replaceState(null, "", `#${home()}`);
  }
  route_();
}

/** Render the view the hash names. */
function route_() {
  if (!session.user) return;
  if (leave) leave();
  leave = null;
  const main = document.getElementById("main");
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  for (const link of document.querySelectorAll("nav a")) {
    link.toggleAttribute("aria-current", location.hash.startsWith(link.getAttribute("href")));
  }
  const token = ++routeToken;
  const [section, id] = parts;
  const notes = document.getElementById("notice");
  if (notes) notes.hidden = true;
  if (["dashboards", "inbox", "support", "notifications"].includes(section) && !allowed(section)) {
    // Another role's page (an agent's inbox, a module the member lacks): say so, go home.
    replace(main, h("h1", { text: "Not available" }), h("p", { role: "alert", text: "This page is not part of what your role and modules let you use here." }), h("p", {}, h("a", { href: `#${home()}`, text: "Go to your start page" })));
    return;
  }
  let result;
  if (section === "dashboards" && id) result = renderDashboard(main, id);
  else if (section === "dashboards") result = renderDashboards(main);
  else if ((section === "inbox" || section === "support") && id) result = renderChat(main, id, section);
  else if (section === "inbox" || section === "support") result = renderChats(main, section);
  else if (section === "notifications") result = renderNotifications(main, bell);
  else {
    go(home());
    return;
  }
  Promise.resolve(result)
    .then((cleanup) => {
      if (typeof cleanup !== "function") return;
      if (token === routeToken) leave = cleanup;
      else cleanup();
    })
    .catch((error) => {
      if (token === routeToken) replace(main, h("p", { class: "form-error", role: "alert", text: error?.message || "The server could not be reached." }));
    });
}

window.addEventListener("hashchange", route_);
onUnauthorized(() => {
  if (!session.user) return;
  stop();
  session.user = null;
  showSignIn();
});

/** Start: signed in already (a session cookie) or the sign-in form. */
(async () => {
  try {
    if (await load()) start();
    else showSignIn();
  } catch (error) {
    showFailure(error);
  }
})();
