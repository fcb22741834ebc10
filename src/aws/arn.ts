/**
 * Amazon Resource Names, read in one place: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html). Found by scanning for the
 * colons rather than splitting: some of these run on every invocation or every segment.
 */

/** The fields of an ARN. */
export interface ParsedArn {
  readonly partition: string;
  readonly service: string;
  readonly region: string;
  readonly account: string;
  /** Everything after the fifth colon, colons included (`table/T/stream/2015-...:...`, `function:f:live`). */
  readonly resource: string;
}

/** Splits an ARN; undefined when the value is not one. */
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

/** A Lambda function's ARN: `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`. */
export interface FunctionArn {
  readonly account: string;
  /** The ARN without its qualifier. */
  readonly unqualified: string;
  /** The alias or version the ARN names, if any. */
  readonly qualifier: string | undefined;
}

/** Reads a function ARN; undefined when `arn` does not name a function (its resource is not `function:…`). */
export function parseFunctionArn(arn: string): FunctionArn | undefined {
  const parsed = parseArn(arn);
  if (!parsed?.resource.startsWith('function:')) return undefined;
  const name = parsed.resource.slice('function:'.length);
  if (name === '') return undefined;
  const colon = name.indexOf(':');
  if (colon === -1) return { account: parsed.account, unqualified: arn, qualifier: undefined };
  return {
    account: parsed.account,
    unqualified: arn.slice(0, arn.length - (name.length - colon)),
    qualifier: name.slice(colon + 1),
  };
}

/** The account field when it is an AWS account ID (12 digits). */
export function accountIdOf(arn: string | undefined): string | undefined {
  const account = parseArn(arn)?.account;
  return account !== undefined && /^\d{12}$/.test(account) ? account : undefined;
}
