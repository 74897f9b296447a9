/**
 * Support chats. Agents get the inbox (`#/inbox`: every chat of the organization by status,
 * assignment); other members their own chats and a form to open one (`#/support`). A chat
 * shows its messages and follows them live over `ws/support/chats/<id>/`: after a drop the
 * socket reconnects with `?after=<last seq shown>`, so nothing is missed and nothing shown
 * twice; typing is announced (at most once a second) and shown from the others.
 */

import { ApiError, get, post } from "../api.js";
import { field, h, replace, select, when } from "../dom.js";
import { clearErrors, onSubmit, showErrors } from "../forms.js";
import { session, isAgent } from "../session.js";
import { LiveSocket } from "../socket.js";

const STATUSES = [
  ["", "All"],
  ["open", "Open"],
  ["pending", "Pending"],
  ["closed", "Closed"],
];

/** Roles that answer chats when they hold the support module (the API's agents). */
const AGENT_ROLES = new Set(["admin", "manager", "worker"]);

/**
 * Names of the organization's members, when the caller may list them (admins); `agents`
 * holds the ids of those who may be assigned a chat (the caller always, being an agent here).
 */
async function memberNames() {
  const names = new Map([[session.user.id, "you"]]);
  names.agents = new Set([session.user.id]);
  if (session.permissions.role !== "admin") return names;
  try {
    const members = await get(`organizations/${session.organization.id}/members/`, { page_size: 100 });
    for (const member of members.results) {
      if (member.user.id !== session.user.id) names.set(member.user.id, member.user.email);
      if (AGENT_ROLES.has(member.role) && member.modules.includes("support")) names.agents.add(member.user.id);
    }
  } catch {
    // The list failed: names stay unknown ("another agent", "Someone").
  }
  return names;
}

/** One chat as a list item. */
function chatItem(section, chat, names) {
  const unread = chat.unread ? h("span", { class: "badge", text: String(chat.unread), "aria-label": `${chat.unread} unread` }) : null;
  const assignee = chat.assignee ? names.get(chat.assignee) || "another agent" : "unassigned";
  return h(
    "li",
    {},
    h("a", { href: `#/${section}/${chat.id}`, dataset: { chatId: chat.id }, text: chat.subject }),
    " ",
    unread,
    h("span", { class: `status status-${chat.status}`, text: chat.status }),
    h("span", { class: "muted small", text: ` ${assignee} · ${when(chat.last_message_at || chat.created_at)}` }),
  );
}

/** The inbox (agents) or the member's own chats with the form opening one. */
export async function renderChats(main, section) {
  const agent = section === "inbox" && isAgent();
  // Agents start on the open queue; a member sees all their chats (few, often closed).
  const status = select("chat-status", STATUSES, agent ? "open" : "");
  const list = h("ul", { id: "chat-list", class: "cards" });
  const names = await memberNames();
  const load = async () => {
    try {
      const page = await get("support/chats/", { status: status.value, page_size: 100, ordering: "-last_message_at" });
      replace(list, page.results.length ? page.results.map((chat) => chatItem(section, chat, names)) : h("li", { class: "muted", text: "No chat here." }));
    } catch (error) {
      replace(list, h("li", { class: "form-error", role: "alert", text: error.message }));
    }
  };
  status.addEventListener("change", load);
  const parts = [h("h1", { text: agent ? "Support inbox" : "Support" }), field("Status", status), list];
  if (!agent) {
    const subject = h("input", { id: "chat-open-subject", name: "subject", required: true, maxlength: "200" });
    const message = h("textarea", { id: "chat-open-message", name: "message", rows: "3" });
    const form = h(
      "form",
      { id: "chat-open", class: "card", novalidate: true },
      h("h2", { text: "Ask for help" }),
      h("p", { id: "chat-open-error", class: "form-error", role: "alert", hidden: true }),
      field("Subject", subject),
      field("Message", message),
      h("button", { type: "submit", text: "Open chat" }),
    );
    onSubmit(form, "chat-open", async () => {
      const body = { subject: subject.value };
      if (message.value.trim()) body.message = message.value;
      const chat = await post("support/chats/", body);
      location.hash = `#/${section}/${chat.id}`;
    });
    parts.push(form);
  }
  replace(main, ...parts);
  await load();
  // The list follows new chats and messages by polling lightly while it is shown.
  const timer = setInterval(load, 10000);
  return () => clearInterval(timer);
}

/** One message as a list item (a tombstone says it was deleted). */
function messageItem(message, names) {
  const author = names.get(message.created_by) || (message.created_by ? "them" : "system");
  const text = message.deleted_at ? "(deleted)" : message.text;
  return h(
    "li",
    { class: `message${message.created_by === session.user.id ? " mine" : ""}${message.internal ? " internal" : ""}`, dataset: { seq: String(message.seq) } },
    h("span", { class: "message-meta muted small", text: `${author} · ${when(message.created_at)}${message.internal ? " · internal note" : ""}${message.edited_at ? " · edited" : ""}` }),
    h("span", { class: "message-text", text }),
  );
}

/** A chat: its messages live, the reply box, typing, and (agents) assignment and closing. */
export async function renderChat(main, id, section) {
  replace(main, h("p", { text: "Loading…" }));
  let chat;
  let names;
  try {
    [chat, names] = await Promise.all([get(`support/chats/${id}/`), memberNames()]);
  } catch (error) {
    replace(main, h("p", { class: "form-error", role: "alert", text: error instanceof ApiError ? error.message : "The server could not be reached." }));
    return;
  }
  const agent = isAgent();
  const messages = h("ol", { id: "messages", class: "messages", "aria-live": "polite", "aria-label": "Messages" });
  const shown = new Map();
  let lastSeq = 0;
  const typing = h("p", { id: "typing", class: "muted small", hidden: true, "aria-live": "polite" });
  const state = h("span", { id: "socket-state", class: "badge", text: "connecting" });
  const subject = h("h1", { id: "chat-subject", text: chat.subject });
  const statusBadge = h("span", { id: "chat-status-badge", class: `status status-${chat.status}`, text: chat.status });
  let typingTimer = null;

  /** Show a message once, in order of seq; an update replaces the shown one. */
  const show = (message) => {
    const item = messageItem(message, names);
    const existing = shown.get(message.seq);
    if (existing) {
      existing.replaceWith(item);
    } else {
      const later = [...shown.entries()].filter(([seq]) => seq > message.seq).sort((a, b) => a[0] - b[0])[0];
      if (later) later[1].before(item);
      else messages.append(item);
    }
    shown.set(message.seq, item);
    lastSeq = Math.max(lastSeq, message.seq);
    item.scrollIntoView({ block: "nearest" });
  };
  const markRead = () => {
    if (document.visibilityState === "visible") socket.send({ type: "read" });
  };
  const applyChat = (current) => {
    chat = { ...chat, ...current };
    subject.textContent = chat.subject;
    statusBadge.textContent = chat.status;
    statusBadge.className = `status status-${chat.status}`;
    closeButton.hidden = chat.status === "closed";
    reopenButton.hidden = chat.status !== "closed";
    if (assignee) assignee.value = chat.assignee || "";
  };

  const socket = new LiveSocket(`support/chats/${id}/`, {
    query: () => ({ after: String(lastSeq) }),
    state: (value) => {
      state.textContent = value;
      state.className = `badge ${value === "live" ? "ok" : "warn"}`;
    },
    message: (data) => {
      if (data.type === "message.created" || data.type === "message.updated" || data.type === "message.deleted") {
        if (data.type !== "message.created" || !shown.has(data.message.seq)) show(data.message);
        if (data.type === "message.created") markRead();
      } else if (data.type === "typing" && data.user !== session.user.id) {
        typing.textContent = `${names.get(data.user) || (agent ? "Someone" : "Support")} is typing…`;
        typing.hidden = false;
        clearTimeout(typingTimer);
        typingTimer = setTimeout(() => (typing.hidden = true), 3000);
      } else if (data.type.startsWith("chat.")) {
        applyChat(data.chat);
      }
    },
  });

  const text = h("textarea", { id: "message-text", name: "text", rows: "2", required: true, maxlength: "4000" });
  const sendButton = h("button", { type: "submit", text: "Send" });
  const form = h(
    "form",
    { id: "message-form", class: "reply", novalidate: true },
    h("p", { id: "message-error", class: "form-error", role: "alert", hidden: true }),
    field("Message", text),
    sendButton,
  );
  let lastTyping = 0;
  text.addEventListener("input", () => {
    const now = Date.now();
    if (now - lastTyping > 1000) {
      lastTyping = now;
      socket.send({ type: "typing" });
    }
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!text.value.trim()) return;
    sendButton.disabled = true;
    const sent = text.value;
    try {
      // REST, so the answer (or the problem) belongs to this send; the socket brings it to all.
      const message = await post(`support/chats/${id}/messages/`, { text: sent });
      if (!shown.has(message.seq)) show(message);
      // The socket may have shown it before this answer came: what was typed since stays.
      if (text.value === sent) text.value = "";
    } catch (error) {
      showErrors(form, "message", error);
    } finally {
      sendButton.disabled = false;
      text.focus();
    }
  });

  const closeButton = h("button", { type: "button", id: "chat-close", class: "secondary", text: "Close chat" });
  const reopenButton = h("button", { type: "button", id: "chat-reopen", class: "secondary", text: "Reopen chat" });
  const actionError = h("p", { id: "chat-action-error", class: "form-error", role: "alert", hidden: true });
  const act = async (path, body) => {
    actionError.hidden = true;
    try {
      applyChat(await post(`support/chats/${id}/${path}/`, body));
    } catch (error) {
      actionError.textContent = error.message;
      actionError.hidden = false;
    }
  };
  closeButton.addEventListener("click", () => act("close"));
  reopenButton.addEventListener("click", () => act("reopen"));
  let assignee = null;
  const tools = [closeButton, reopenButton];
  if (agent) {
    const agents = [...names.entries()].filter(([userId]) => names.agents.has(userId));
    assignee = select("chat-assignee", [["", "(unassigned)"], ...agents], chat.assignee || "");
    if (chat.assignee && !names.agents.has(chat.assignee)) assignee.append(h("option", { value: chat.assignee, text: "another agent" }));
    assignee.value = chat.assignee || "";
    const assign = h("button", { type: "button", id: "chat-assign", class: "secondary", text: "Assign" });
    assign.addEventListener("click", () => assignee.value && act("assign", { assignee: assignee.value }));
    tools.unshift(h("div", { class: "row" }, field("Assignee", assignee), assign));
  }

  replace(
    main,
    h("p", {}, h("a", { href: `#/${section}`, text: section === "inbox" ? "← Inbox" : "← Support" })),
    h("div", { class: "row spread" }, subject, h("span", {}, statusBadge, " ", state)),
    h("div", { class: "row wrap chat-tools" }, tools),
    actionError,
    messages,
    typing,
    form,
  );
  applyChat(chat);
  document.addEventListener("visibilitychange", markRead);
  return () => {
    socket.stop();
    clearTimeout(typingTimer);
    document.removeEventListener("visibilitychange", markRead);
  };
}
