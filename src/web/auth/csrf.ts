/**
 * The names that carry a session's CSRF token. A module of its own so that pages can
 * name the field without importing the middleware (which imports the error pages).
 */

/** The form field (pages) and header (API) that carry the session's CSRF token. */
export const CSRF_FIELD = "_csrf";
export const CSRF_HEADER = "x-csrf-token";
