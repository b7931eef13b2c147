/* errors.js: DigitsError, what every failure of the module throws (digits.js
 * re-exports it): the message (from C when the core failed), code a
 * negative status (Status in constants.js) and codeName its name. */

import { Status, StatusName } from './constants.js';

/* A failed call: message from C, code a negative status, codeName its name
 * (dg_status_name's, by default). */
export class DigitsError extends Error {
  constructor(message, code, codeName = StatusName[code] ?? 'unknown error') {
    super(message);
    this.name = 'DigitsError';
    this.code = code;
    this.codeName = codeName;
  }
}

/* The error of any call on a disposed object (a recognizer, a trainer). */
export function disposedError(what) {
  return new DigitsError(`${what}: used after dispose()`, Status.ARG);
}

/* The well-known symbol of `using` declarations (Symbol.dispose, or
 * TypeScript's fallback where the engine has none yet). */
export const DISPOSE = Symbol.dispose ?? Symbol.for('Symbol.dispose');
