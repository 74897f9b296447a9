/** The sign-in form: session cookie + CSRF token, the API's errors next to the fields. */

import { h, field, replace } from "../dom.js";
import { onSubmit } from "../forms.js";
import { signIn } from "../session.js";

/**
 * Render the sign-in form into `root`; `done()` runs once signed in.
 * @param {HTMLElement} root where to render
 * @param {() => Promise<void>} done called after a successful sign-in
 */
export function renderSignIn(root, done) {
  const email = h("input", { id: "signin-email", name: "email", type: "email", autocomplete: "username", required: true });
  const password = h("input", { id: "signin-password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", text: "Sign in" });
  const form = h(
    "form",
    { id: "signin", class: "card narrow", novalidate: true },
    h("h1", { text: "Sign in to Valar" }),
    h("p", { id: "signin-error", class: "form-error", role: "alert", hidden: true }),
    field("Email", email),
    field("Password", password),
    submit,
  );
  onSubmit(form, "signin", async () => {
    await signIn(email.value, password.value);
    await done();
  });
  replace(root, h("main", { id: "main", class: "signin" }, form));
  email.focus();
}
