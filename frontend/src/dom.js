/**
 * Small DOM helpers: elements are built with properties and text nodes only (never by
 * assigning HTML), so nothing the API returns can run as markup.
 */

/**
 * Create an element.
 * @param {string} tag tag name
 * @param {object} [attrs] attributes; `class`, `text`, `on<Event>` and `dataset` are special
 * @param {...(Node|string|null|false)} children child nodes or text
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "text") element.textContent = value;
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      element.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (value === true) element.setAttribute(key, "");
    else element.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Remove every child of `element` and append `children`. */
export function replace(element, ...children) {
  element.replaceChildren(...children.flat().filter((child) => child !== null && child !== false));
  return element;
}

/**
 * A labelled form field: a label, the control and an error slot `#<id>-error` the control
 * points at with aria-describedby.
 * @param {string} label visible label text
 * @param {HTMLElement} control input, select or textarea carrying an id
 */
export function field(label, control) {
  const error = h("p", { class: "field-error", id: `${control.id}-error`, hidden: true });
  control.setAttribute("aria-describedby", error.id);
  return h("div", { class: "field" }, h("label", { for: control.id, text: label }), control, error);
}

/** A <select> with options given as [value, label] pairs. */
export function select(id, options, value) {
  const element = h("select", { id, name: id });
  for (const [optionValue, text] of options) {
    element.append(h("option", { value: optionValue, text }));
  }
  if (value !== undefined) element.value = value;
  return element;
}

/** Format an ISO timestamp for people, in the browser's locale and time zone. */
export function when(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString();
}

/** A bell icon (inline SVG, decorative: its link carries the label). */
export function bellIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "20");
  svg.setAttribute("height", "20");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute("d", "M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z");
  svg.append(path);
  return svg;
}
