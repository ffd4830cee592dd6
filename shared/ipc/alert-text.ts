/**
 * Words of the security alerts that the renderer shows as they are. Free of zod so the
 * renderer bundle does not pull in the schemas (zod's eval probe would trip the CSP).
 * @module
 */

/** The advice every security alert carries (the server operator may be the attacker). */
export const ALERT_ADVICE =
  'Do not approve anything for this ceremony. Tell your security officer by phone or in person, not through this server: the server operator may be the attacker.';
