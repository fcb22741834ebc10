/**
 * Query strings and header names that may carry credentials.
 *
 * The semantic conventions ask for `REDACTED` in place of the values of a few signing parameters
 * (`X-Amz-Signature`, `X-Amz-Credential`, `X-Amz-Security-Token`, `AWSAccessKeyId`, `Signature`,
 * `sig`, `X-Goog-Signature`); applications put many more secrets in URLs (`access_token`, `code`,
 * `password`, `api_key`...), so names are matched loosely and case-insensitively. Redacting a
 * harmless `author` or `sortKey` costs a little detail; missing a token leaks it to every trace
 * reader, so the rule errs towards redacting.
 */

/** The replacement value required by the semantic conventions. */
export const REDACTED = 'REDACTED';

// Matched anywhere in the name, ignoring case: long enough not to hide inside ordinary words.
// One regex compiled at load: it tests a name in one pass where a list of `includes` takes a dozen.
const SENSITIVE_PART =
  /token|secret|passw|passcode|pwd|auth|signature|credential|session|sessid|cookie|hmac|oidc|(?:api|access|private|app|license|client|user|master|dev|signing|encryption)key/i;
// passw: password, passwd, passwort; auth: authorization, oauth_*, authtoken; sessid: PHPSESSID;
// oidc: ALB's x-amzn-oidc-* headers, which hold the user's tokens and claims. A key glued to the
// word before it (appkey, licensekey) is matched by that word, not as any name ending in "key".

// Matched only as a whole word of the name (split on punctuation and camelCase), because as
// substrings they sit inside ordinary words: key in "monkey", sig in "design", code in "zipcode".
const SENSITIVE_WORDS = new Set([
  'key',
  'sig',
  'sign',
  'code',
  'pass',
  'pin',
  'otp',
  'jwt',
  'sid',
  'ssn',
  'cvv',
]);

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}

function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}

/** Whether one of the words of `name` (`api_key` → api, key; `apiKey` → api, Key) is sensitive. */
function hasSensitiveWord(name: string): boolean {
  let start = -1;
  for (let i = 0; i <= name.length; i++) {
    const c = i < name.length ? name.charCodeAt(i) : -1;
    const alnum = c !== -1 && isAlnum(c);
    // A word ends at punctuation, at the end, or where a lower-case letter meets an upper-case one.
    const camel = alnum && start !== -1 && isUpper(c) && isLower(name.charCodeAt(i - 1));
    if (start !== -1 && (!alnum || camel)) {
      if (i - start <= 4 && SENSITIVE_WORDS.has(name.slice(start, i).toLowerCase())) return true;
      start = -1;
    }
    if (alnum && start === -1) start = i;
  }
  return false;
}

// The same few header and parameter names come back on every invocation, so answers are kept.
// Names are chosen by clients: the cache stops growing when full rather than evicting, and long
// names are not kept, so a client cannot make it hold much.
const verdicts = new Map<string, boolean>();
const MAX_VERDICTS = 512;
const MAX_CACHED_NAME = 64;

/** Whether a query parameter or header named `name` may hold a secret. */
export function isSensitiveName(name: string): boolean {
  const known = verdicts.get(name);
  if (known !== undefined) return known;
  const sensitive = SENSITIVE_PART.test(name) || hasSensitiveWord(name);
  if (verdicts.size < MAX_VERDICTS && name.length <= MAX_CACHED_NAME) verdicts.set(name, sensitive);
  return sensitive;
}

const PLUS = /\+/g;

/** Decodes a raw query key for matching only; a malformed escape leaves it as it is. */
function decodeKey(rawKey: string): string {
  if (!rawKey.includes('%') && !rawKey.includes('+')) return rawKey;
  try {
    return decodeURIComponent(rawKey.replace(PLUS, ' '));
  } catch {
    return rawKey;
  }
}

/**
 * A raw query string (`a=1&token=x`, no `?`) with the values of sensitive parameters replaced by
 * `REDACTED`; keys, order and the other values are kept byte for byte.
 */
export function redactRawQuery(raw: string): string {
  if (raw === '') return raw;
  const parts = raw.split('&');
  let changed = false;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    const eq = part.indexOf('=');
    // A key without a value has nothing to hide.
    if (eq === -1) continue;
    const key = part.slice(0, eq);
    if (isSensitiveName(decodeKey(key))) {
      parts[i] = `${key}=${REDACTED}`;
      changed = true;
    }
  }
  return changed ? parts.join('&') : raw;
}

/**
 * Rebuilds a query string from the parameter maps of payload format 1.0 events, redacting as it goes.
 * API Gateway hands the parameters decoded, so they are encoded back (`encode`); ALB hands them
 * as the client sent them, still encoded, so they are joined as they are.
 * `multi` (`multiValueQueryStringParameters`) is preferred: it keeps repeated keys.
 */
export function queryFromParameters(single: unknown, multi: unknown, encode: boolean): string {
  const parts: string[] = [];
  const add = (key: string, value: unknown): void => {
    if (typeof value !== 'string') return;
    const matchKey = encode ? key : decodeKey(key);
    const outKey = encode ? encodeURIComponent(key) : key;
    let outValue: string;
    if (isSensitiveName(matchKey)) outValue = REDACTED;
    else outValue = encode ? encodeURIComponent(value) : value;
    parts.push(`${outKey}=${outValue}`);
  };
  if (typeof multi === 'object' && multi !== null && !Array.isArray(multi)) {
    for (const key of Object.keys(multi)) {
      const values = (multi as Record<string, unknown>)[key];
      if (Array.isArray(values)) for (const value of values) add(key, value);
      else add(key, values);
    }
  } else if (typeof single === 'object' && single !== null && !Array.isArray(single)) {
    for (const key of Object.keys(single)) add(key, (single as Record<string, unknown>)[key]);
  }
  return parts.join('&');
}
