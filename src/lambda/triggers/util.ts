/** A plain record read from an event; every field is `unknown` until checked. */
export type Obj = Record<string, unknown>;

/** True for non-null, non-array objects: the only values whose fields are worth reading. */
export function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The field if it is an object, else undefined. */
export function obj(value: unknown): Obj | undefined {
  return isObj(value) ? value : undefined;
}

/** The value if it is a non-empty string, else undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Text after the last occurrence of `sep`, or the whole text. */
export function afterLast(text: string, sep: string): string {
  const at = text.lastIndexOf(sep);
  return at === -1 ? text : text.slice(at + sep.length);
}

/**
 * Caps text that ends up in a span name. Names must stay short and few; a value longer than this
 * is not a name any dashboard groups by.
 */
export function capName(text: string, max = 100): string {
  return text.length > max ? text.slice(0, max) : text;
}
