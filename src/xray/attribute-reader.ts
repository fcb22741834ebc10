import type { Attributes, AttributeValue } from '@opentelemetry/api';

/**
 * Typed, forgiving reads of a span's attributes that remember which keys a block consumed.
 *
 * The collector's exporter removes every attribute it turned into an `http`, `aws` or `sql`
 * field before it writes the rest to `metadata.default`; `consumed` is that list here.
 * Every read tolerates a value of the wrong type (instrumentations disagree, users set anything):
 * it never throws and returns `undefined` instead.
 */
export class AttributeReader {
  /** Keys that a block turned into a segment field, left out of metadata. */
  readonly consumed = new Set<string>();

  /**
   * @param reads when given, collects every key whose value was read (see `segment-templates.ts`:
   *   what the translation did not read, it can only have copied).
   */
  constructor(
    readonly attributes: Attributes,
    private readonly reads?: Set<string>,
  ) {}

  /** Whether any of `keys` is set (to anything but `undefined`/`null`). */
  has(...keys: string[]): boolean {
    return keys.some((key) => this.raw(key) !== undefined);
  }

  /** The raw value of `key`, or `undefined`. Does not mark the key consumed. */
  raw(key: string): AttributeValue | undefined {
    this.reads?.add(key);
    const value = this.attributes[key];
    return value === null ? undefined : value;
  }

  /**
   * The first of `keys` holding a non-empty string (numbers and booleans are stringified, the
   * way the collector's `Str()` on a non-string value would give nothing useful otherwise).
   */
  string(...keys: string[]): string | undefined {
    for (const key of keys) {
      const text = asString(this.raw(key));
      if (text !== undefined) return text;
    }
    return undefined;
  }

  /** The first of `keys` holding a finite number (numeric strings such as `"404"` count). */
  number(...keys: string[]): number | undefined {
    for (const key of keys) {
      const value = this.raw(key);
      const parsed = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof parsed === 'number' && Number.isFinite(parsed)) return parsed;
    }
    return undefined;
  }

  /** The first of `keys` holding a non-empty string or an array with string members. */
  strings(...keys: string[]): string[] | undefined {
    for (const key of keys) {
      const value = this.raw(key);
      if (Array.isArray(value)) {
        const members = value.filter((item): item is string => typeof item === 'string' && item !== '');
        if (members.length > 0) return members;
      } else {
        const text = asString(value);
        if (text !== undefined) return [text];
      }
    }
    return undefined;
  }

  /** Marks `keys` as turned into segment fields, so metadata leaves them out. */
  consume(...keys: string[]): void {
    for (const key of keys) {
      if (key in this.attributes) this.consumed.add(key);
    }
  }
}

/** A string form of a scalar attribute value, or `undefined` when empty or not a scalar. */
export function asString(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'boolean') return String(value);
  return undefined;
}

/** Cuts `text` to at most `max` UTF-16 code units without splitting a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end);
}
