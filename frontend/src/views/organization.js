/** The first organization: a signed-in account that belongs to none creates one here. */

import { post } from "../api.js";
import { field, h, replace } from "../dom.js";
import { onSubmit } from "../forms.js";

/**
 * Render the form creating an organization (the caller becomes its admin).
 * @param {HTMLElement} main where to render
 * @param {() => Promise<void>} done called once the organization exists
 */
export function renderFirstOrganization(main, done) {
  const name = h("input", { id: "org-create-name", name: "name", required: true, maxlength: "200", autocomplete: "organization" });
  const submit = h("button", { type: "submit", text: "Create organization" });
  const form = h(
    "form",
    { id: "org-create", class: "card narrow", novalidate: true },
    h("h1", { text: "Create your organization" }),
    h("p", { text: "You are not a member of any organization yet. Create one (you will be its admin), or ask an admin to invite you." }),
    h("p", { id: "org-create-error", class: "form-error", role: "alert", hidden: true }),
    field("Organization name", name),
    submit,
  );
  onSubmit(form, "org-create", async () => {
    await post("organizations/", { name: name.value });
    await done();
  });
  replace(main, form);
  name.focus();
}
