/** SHA-256 of a normalized address: defined with the other storage keys in core/keys.ts. */
export { emailHash } from '../keys.js';
