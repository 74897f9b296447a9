/**
 * Problem details shown where they belong: each message of the API's `errors` next to the
 * field it names, the rest (and the `detail` of other problems) in the form's alert.
 */

import { ApiError } from "./api.js";

/** Hide every error slot of a form. */
export function clearErrors(form) {
  for (const slot of form.querySelectorAll(".field-error, .form-error")) {
    slot.hidden = true;
    slot.textContent = "";
  }
  for (const control of form.querySelectorAll("[aria-invalid]")) {
    control.removeAttribute("aria-invalid");
  }
}

/**
 * Show an error from the API on a form.
 * @param {HTMLFormElement} form the form
 * @param {string} prefix id prefix of the form's fields (`chart` for `#chart-title`)
 * @param {unknown} error what the request threw
 * @param {object} [aliases] API field name -> form field name, for names that differ
 */
export function showErrors(form, prefix, error, aliases = {}) {
  const general = form.querySelector(".form-error");
  const leftOver = [];
  if (error instanceof ApiError && Object.keys(error.errors).length) {
    let first = null;
    for (const [key, messages] of Object.entries(error.errors)) {
      const name = aliases[key] || key.replace(/^query\./, "");
      const slot = form.querySelector(`#${prefix}-${name.replaceAll("_", "-")}-error`);
      const text = [].concat(messages).join(" ");
      if (slot) {
        slot.textContent = text;
        slot.hidden = false;
        const control = form.querySelector(`#${prefix}-${name.replaceAll("_", "-")}`);
        if (control) {
          control.setAttribute("aria-invalid", "true");
          first = first || control;
        }
      } else {
        leftOver.push(`${key}: ${text}`);
      }
    }
    if (first) first.focus();
  } else {
    leftOver.push(error instanceof ApiError ? error.message : "The server could not be reached.");
  }
  if (general && leftOver.length) {
    general.textContent = leftOver.join(" ");
    general.hidden = false;
  }
}

/**
 * Run `action` when `form` is submitted: errors cleared, the submit button disabled while it
 * runs, and what the API refuses shown on the form (the button enabled again to retry).
 * @param {HTMLFormElement} form the form
 * @param {string} prefix id prefix of its fields (see showErrors)
 * @param {() => Promise<void>} action what submitting does
 * @param {object} [aliases] API field name -> form field name (see showErrors)
 */
export function onSubmit(form, prefix, action, aliases = {}) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = true;
    try {
      await action();
    } catch (error) {
      showErrors(form, prefix, error, aliases);
    } finally {
      if (button && button.isConnected) button.disabled = false;
    }
  });
}
