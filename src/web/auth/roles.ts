/**
 * Roles, each including the ones before it: a viewer sees records,
 * runs and SIS data; a runner also runs now and previews; an editor also creates,
 * edits, deletes and duplicates records and approves or discards held runs; an
 * admin also manages connections and school setup.
 */

export const ROLES = ["viewer", "runner", "editor", "admin"] as const;
/** One of {@linkcode ROLES}. */
export type Role = typeof ROLES[number];

/** True when `name` is a role. */
export function isRole(name: string): name is Role {
  return (ROLES as readonly string[]).includes(name);
}

/** True when `role` may do what `needed` may do. */
export function hasRole(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** What a role is called on pages. */
export const ROLE_LABELS: Record<Role, string> = {
  viewer: "Viewer",
  runner: "Runner",
  editor: "Editor",
  admin: "Administrator",
};
