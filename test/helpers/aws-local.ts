import { type LocalService, serviceOf } from '../../src/local/aws-services.js';

export {
  type LocalService,
  type ReceivedMessage,
  sqsEventFromMessages,
  startDynalite,
  startLocalSqs,
} from '../../src/local/aws-services.js';

import type { LocalFunctionOptions } from '../../src/local/lambda-process.js';
import type { RuntimeName } from '../../src/local/runtime-entries.js';
import { startFunction } from './traced-function.js';

/** Fake credentials: the local services accept any, and the SDK refuses to sign without some. */
export const FAKE_CREDENTIALS = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' } as const;
export const REGION = 'us-east-1';

/**
 * The packages a fixture function imports, linked into its task root's `node_modules` rather than
 * copied: Node resolves a symlinked package to its real path under the repository, so the SDK's
 * own dependencies resolve there too, as they would from the function's bundle-free deployment.
 * `otel-lambda-xray` is this repository (its public API, built into `build/src/index.js`).
 */
const LINKED_PACKAGES: Readonly<Record<string, string>> = {
  '@aws-sdk/client-sqs': 'node_modules/@aws-sdk/client-sqs',
  '@aws-sdk/client-sns': 'node_modules/@aws-sdk/client-sns',
  '@aws-sdk/client-dynamodb': 'node_modules/@aws-sdk/client-dynamodb',
  '@aws-sdk/client-lambda': 'node_modules/@aws-sdk/client-lambda',
  'otel-lambda-xray': '.',
};

export interface AwsFunctionOptions extends Partial<Omit<LocalFunctionOptions, 'taskRoot'>> {
  runtime: RuntimeName;
  fixture: string;
}

/** A fixture function with the AWS SDK clients installed, started through the built layer. */
export function startAwsFunction(options: AwsFunctionOptions) {
  return startFunction({ functionName: options.fixture, ...options, nodeModules: LINKED_PACKAGES });
}

/** What the local Invoke API needs from a function: `LocalFunction.invoke`. */
export interface InvokableFunction {
  invoke(event: unknown, options?: { traceHeader?: string }): Promise<{ status: string; payload?: unknown }>;
}

/** One `Invoke` call the local API served. */
export interface ServedInvoke {
  readonly functionName: string;
  readonly invocationType: string;
  /** The caller's `X-Amzn-Trace-Id`, which Lambda makes the callee's trace header. */
  readonly traceHeader: string | undefined;
  /** Settles when the callee's invocation is over (for `Event` invocations, after the 202). */
  readonly done: Promise<void>;
}

/**
 * A local Lambda `Invoke` API (`POST /2015-03-31/functions/{name}/invocations`) that runs the
 * named function and, as Lambda does, passes the caller's `X-Amzn-Trace-Id` request header on as
 * the callee's trace header. `RequestResponse` answers with the callee's result, `Event` with 202
 * at once.
 */
export async function startLocalLambdaApi(
  functions: Readonly<Record<string, InvokableFunction>>,
): Promise<LocalService & { readonly served: ServedInvoke[] }> {
  const { createServer } = await import('node:http');
  const served: ServedInvoke[] = [];
  const server = createServer((req, res) => {
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? '');
    const fn = match ? functions[decodeURIComponent(match[1] as string)] : undefined;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (match === null || fn === undefined || req.method !== 'POST') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ Type: 'User', message: 'Function not found' }));
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const event = body === '' ? {} : JSON.parse(body);
      const header = req.headers['x-amzn-trace-id'];
      const traceHeader = Array.isArray(header) ? header[0] : header;
      const invocationType = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
      const result = fn.invoke(event, traceHeader === undefined ? {} : { traceHeader });
      served.push({
        functionName: decodeURIComponent(match[1] as string),
        invocationType,
        traceHeader,
        done: result.then(() => undefined),
      });
      if (invocationType === 'Event') {
        res.writeHead(202, { 'x-amzn-requestid': randomId() });
        res.end();
        return;
      }
      result.then(
        (r) => {
          const headers: Record<string, string> = {
            'content-type': 'application/json',
            'x-amzn-requestid': randomId(),
            'x-amz-executed-version': '$LATEST',
          };
          if (r.status !== 'success') headers['x-amz-function-error'] = 'Unhandled';
          res.writeHead(200, headers);
          res.end(JSON.stringify(r.payload ?? null));
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: String(error) }));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(serviceOf(server), { served });
}

function randomId(): string {
  return globalThis.crypto.randomUUID();
}
