/**
 * Who is signed in and where: the user (`auth/me/`), their organizations, the one chosen and
 * what they may do in it (`auth/me/permissions/`). The chosen organization's id is kept in
 * sessionStorage (an id, not a credential) so a reload stays in it.
 */

import { ensureCsrf, get, post, setOrganization } from "./api.js";

const ORG_KEY = "valar.organization";

/** The signed-in state (null fields while signed out). */
export const session = { user: null, organizations: [], organization: null, permissions: null };

/** What the caller may do: `can("support", "assign")` is true for all/own. */
export function can(module, action) {
  const grant = session.permissions?.permissions?.[module]?.[action];
  return grant === "all" || grant === "own";
}

/** True for members who answer chats (the API's agents: may assign). */
export function isAgent() {
  return can("support", "assign");
}

/** Load the user, organizations and permissions; false when not signed in. */
export async function load() {
  try {
    session.user = await get("auth/me/");
  } catch (error) {
    if (error.status === 401 || error.status === 403) return false;
    throw error;
  }
  const organizations = await get("organizations/", { page_size: 100 });
  session.organizations = organizations.results;
  const kept = sessionStorage.getItem(ORG_KEY);
  const chosen = session.organizations.find((org) => org.id === kept);
  try {
    try {
      await choose(chosen ? chosen.id : null);
    } catch (error) {
      // The kept organization is no longer the member's (or was tampered with): the default.
      if (!chosen || error.status !== 403) throw error;
      sessionStorage.removeItem(ORG_KEY);
      await choose(null);
    }
  } catch (error) {
    // Signed in but a member of no organization yet (403): the console offers to create one.
    if (error.status !== 403 || session.organizations.length) throw error;
    session.permissions = null;
    session.organization = null;
  }
  return true;
}

/** Work in organization `id` (null: the default one). */
export async function choose(id) {
  const previous = session.permissions?.organization || null;
  setOrganization(id);
  try {
    session.permissions = await get("auth/me/permissions/");
  } catch (error) {
    setOrganization(previous);
    throw error;
  }
  setOrganization(session.permissions.organization);
  session.organization = session.organizations.find((org) => org.id === session.permissions.organization) || null;
  sessionStorage.setItem(ORG_KEY, session.permissions.organization);
}

/** Sign in with the session cookie (CSRF token first). */
export async function signIn(email, password) {
  await ensureCsrf();
  await post("auth/login/", { email, password, platform: "web" });
  await ensureCsrf();
}

/** End the session. */
export async function signOut() {
  try {
    await post("auth/logout/");
  } finally {
    session.user = null;
    session.permissions = null;
    sessionStorage.removeItem(ORG_KEY);
    setOrganization(null);
  }
}
