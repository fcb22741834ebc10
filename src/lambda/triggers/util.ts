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

/** The parts of an ARN this module needs: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`. */
export interface ParsedArn {
  readonly partition: string;
  readonly service: string;
  readonly region: string;
  readonly account: string;
  /** Everything after the fifth colon, colons included (`table/T/stream/2015-...:...`). */
  readonly resource: string;
}

/** Splits an ARN without a regex or an array of all its parts; undefined when it is not one. */
export function parseArn(arn: unknown): ParsedArn | undefined {
  if (typeof arn !== 'string' || !arn.startsWith('arn:')) return undefined;
  const cuts: number[] = [3];
  for (let i = 0; i < 4; i++) {
    const next = arn.indexOf(':', (cuts[i] as number) + 1);
    if (next === -1) return undefined;
    cuts.push(next);
  }
  const [c0, c1, c2, c3, c4] = cuts as [number, number, number, number, number];
  return {
    partition: arn.slice(c0 + 1, c1),
    service: arn.slice(c1 + 1, c2),
    region: arn.slice(c2 + 1, c3),
    account: arn.slice(c3 + 1, c4),
    resource: arn.slice(c4 + 1),
  };
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
