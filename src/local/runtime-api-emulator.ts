/**
 * A Lambda Runtime API (2018-06-01) emulator: the HTTP endpoint a real runtime
 * client (aws-lambda-ric) polls for events and posts results to. It knows
 * nothing about processes; {@link LocalFunction} adds those.
 *
 * Response streaming is supported minimally: a streamed `/response` body is
 * collected whole and returned as a string; a mid-stream error (sent as HTTP
 * trailers) becomes an `'error'` result.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Per-invocation options, mirroring what the Lambda service puts in the `/next` headers. */
export interface InvokeOptions {
  /** Sent as `Lambda-Runtime-Trace-Id` (the X-Ray trace header), omitted when absent. */
  traceHeader?: string;
  /** Deadline = now + this; the invocation resolves as `'timeout'` when it passes. Default 3000 (Lambda's default). */
  timeoutMs?: number;
  /** Defaults to a random UUID. */
  requestId?: string;
  /** JSON-serialised into `Lambda-Runtime-Client-Context`. */
  clientContext?: unknown;
  /** Defaults to an ARN built from the emulator's function name. */
  invokedFunctionArn?: string;
}

/** An error as the runtime reports it (body of `/error` or `/init/error`). */
export interface RuntimeError {
  errorType: string;
  errorMessage: string;
  trace?: string[];
  /** The `Lambda-Runtime-Function-Error-Type` header, which may differ from the body's type. */
  errorTypeHeader?: string;
  /** Parsed `Lambda-Runtime-Function-XRay-Error-Cause` header, when the client sent one. */
  xrayErrorCause?: unknown;
}

/** How one invocation ended. */
export interface InvocationResult {
  requestId: string;
  status: 'success' | 'error' | 'timeout' | 'crashed';
  /** Parsed JSON body of `/response` (the raw string if it is not JSON, e.g. a streamed body). */
  payload?: unknown;
  /** True when the runtime streamed the response. */
  streamed?: boolean;
  error?: RuntimeError;
  /** From handing the event to the runtime to its result (or the deadline). */
  durationMs: number;
}

/** Hooks a process manager uses to freeze/thaw the runtime around invocations. */
export interface EmulatorLifecycle {
  /** The runtime is polling `/next` with nothing to deliver (init done or invocation done). */
  onIdle?(): void;
  /** Called synchronously just before an event is written to a waiting `/next`. */
  beforeDeliver?(requestId: string): void;
}

/** Emulator-wide settings. */
export interface EmulatorOptions {
  /** Used for the default invoked function ARN. */
  functionName?: string;
  region?: string;
  lifecycle?: EmulatorLifecycle;
}

/** Thrown by {@link RuntimeApiEmulator.waitForNext} when the runtime reported an init error. */
export class RuntimeInitError extends Error {
  constructor(readonly runtimeError: RuntimeError) {
    super(`runtime init failed: ${runtimeError.errorType}: ${runtimeError.errorMessage}`);
    this.name = 'RuntimeInitError';
  }
}

interface Invocation {
  requestId: string;
  body: string;
  headers: Record<string, string>;
  deliveredAt?: number;
  timer?: NodeJS.Timeout;
  resolve(result: InvocationResult): void;
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

const PREFIX = '/2018-06-01/runtime';
const INVOCATION_PATH = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/;
const DEFAULT_TIMEOUT_MS = 3000;

/** The Lambda Runtime API on 127.0.0.1, one function instance (single concurrency) at a time. */
export class RuntimeApiEmulator {
  /** Value for `AWS_LAMBDA_RUNTIME_API`: `127.0.0.1:PORT`. */
  readonly address: string;
  /** The error the runtime posted to `/init/error`, until {@link reset}. */
  initError: RuntimeError | undefined;
  private readonly queue: Invocation[] = [];
  private inFlight: Invocation | undefined;
  private pendingNext: ServerResponse | undefined;
  private waiters: Waiter[] = [];
  private closed = false;

  private constructor(
    private readonly server: Server,
    private readonly options: EmulatorOptions,
  ) {
    const { port } = server.address() as AddressInfo;
    this.address = `127.0.0.1:${port}`;
  }

  /** Starts the emulator on an ephemeral port. */
  static async start(options: EmulatorOptions = {}): Promise<RuntimeApiEmulator> {
    let emulator: RuntimeApiEmulator | undefined;
    const server = createServer((req, res) => {
      emulator?.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) reply(res, 500, { errorType: 'EmulatorError', errorMessage: String(error) });
      });
    });
    // /next is a long poll and a frozen runtime may sit on it indefinitely.
    server.requestTimeout = 0;
    server.keepAliveTimeout = 0;
    server.headersTimeout = 0;
    // Pending work holds its own timers; an idle emulator must not keep a test process alive.
    server.on('connection', (socket) => socket.unref());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    server.unref();
    emulator = new RuntimeApiEmulator(server, options);
    return emulator;
  }

  /** Replaces the freeze/thaw hooks (the process manager sets them after starting the emulator). */
  setLifecycle(lifecycle: EmulatorLifecycle): void {
    this.options.lifecycle = lifecycle;
  }

  /** True while the runtime is blocked on `/next` with nothing to deliver. */
  get polling(): boolean {
    return this.pendingNext !== undefined;
  }

  /** Queues an event; resolves when the runtime answers, the deadline passes, or the invocation is aborted. */
  invoke(event: unknown, opts: InvokeOptions = {}): Promise<InvocationResult> {
    const requestId = opts.requestId ?? randomUUID();
    if (this.initError) {
      return Promise.resolve({ requestId, status: 'crashed', error: this.initError, durationMs: 0 });
    }
    const deadlineMs = Date.now() + (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const region = this.options.region ?? 'us-east-1';
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Aws-Request-Id': requestId,
      'Lambda-Runtime-Deadline-Ms': String(deadlineMs),
      'Lambda-Runtime-Invoked-Function-Arn':
        opts.invokedFunctionArn ??
        `arn:aws:lambda:${region}:123456789012:function:${this.options.functionName ?? 'local-function'}`,
    };
    if (opts.traceHeader !== undefined) headers['Lambda-Runtime-Trace-Id'] = opts.traceHeader;
    if (opts.clientContext !== undefined)
      headers['Lambda-Runtime-Client-Context'] = JSON.stringify(opts.clientContext);
    return new Promise((resolve) => {
      const invocation: Invocation = {
        requestId,
        body: JSON.stringify(event === undefined ? null : event),
        headers,
        resolve,
      };
      invocation.timer = setTimeout(
        () => this.settle(invocation, { status: 'timeout' }),
        Math.max(0, deadlineMs - Date.now()),
      );
      this.queue.push(invocation);
      this.deliver();
    });
  }

  /**
   * Resolves once the runtime is polling `/next` with nothing to deliver, i.e.
   * init (or the previous invocation) finished. Rejects with
   * {@link RuntimeInitError} if the runtime reported an init error.
   */
  waitForNext(): Promise<void> {
    if (this.initError) return Promise.reject(new RuntimeInitError(this.initError));
    if (this.closed) return Promise.reject(new Error('emulator closed'));
    if (this.pendingNext && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Ends the in-flight and queued invocations, e.g. because the runtime process died. */
  abort(status: 'timeout' | 'crashed', error?: RuntimeError): void {
    for (const invocation of [...(this.inFlight ? [this.inFlight] : []), ...this.queue]) {
      this.settle(invocation, { status, error });
    }
  }

  /** Forgets the previous runtime (its init error and `/next` poll) before a new process starts. */
  reset(): void {
    this.initError = undefined;
    this.pendingNext?.destroy();
    this.pendingNext = undefined;
  }

  /** Fails everything pending and stops the server. */
  async close(): Promise<void> {
    this.closed = true;
    this.abort('crashed', { errorType: 'Emulator.Closed', errorMessage: 'emulator closed' });
    this.rejectWaiters(new Error('emulator closed'));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '';
    if (req.method === 'GET' && url === `${PREFIX}/invocation/next`) return this.onNext(res);
    const body = await readBody(req);
    if (req.method === 'POST' && url === `${PREFIX}/init/error`) return this.onInitError(req, res, body);
    const match = req.method === 'POST' ? INVOCATION_PATH.exec(url) : null;
    if (match) return this.onResult(req, res, decodeURIComponent(match[1] ?? ''), match[2] === 'error', body);
    reply(res, 404, { errorType: 'NotFound', errorMessage: `${req.method} ${url}` });
  }

  private onNext(res: ServerResponse): void {
    this.pendingNext?.destroy();
    this.pendingNext = res;
    // A runtime killed mid-poll must not receive the next event. (On the response, not the kept-alive
    // socket: one listener per poll would pile up on a socket that serves every invocation.)
    res.once('close', () => {
      if (this.pendingNext === res) this.pendingNext = undefined;
    });
    if (this.queue.length > 0) {
      this.deliver();
      return;
    }
    this.options.lifecycle?.onIdle?.();
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  private onInitError(req: IncomingMessage, res: ServerResponse, body: string): void {
    this.initError = toRuntimeError(req, body);
    reply(res, 202, { status: 'OK' });
    this.rejectWaiters(new RuntimeInitError(this.initError));
    // Like Lambda, an init failure fails the invocation that was waiting for this runtime.
    const queued = this.queue.shift();
    if (queued) this.settle(queued, { status: 'crashed', error: this.initError });
  }

  private onResult(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    isError: boolean,
    body: string,
  ): void {
    const invocation = this.inFlight;
    if (!invocation || invocation.requestId !== requestId) {
      reply(res, 400, {
        errorType: 'InvalidRequestID',
        errorMessage: `no invocation ${requestId} in flight`,
      });
      return;
    }
    reply(res, 202, { status: 'OK' });
    const streamed = /streaming/i.test(header(req, 'lambda-runtime-function-response-mode') ?? '');
    const trailerErrorType = req.trailers['lambda-runtime-function-error-type'];
    if (isError || trailerErrorType) {
      const errorBody = trailerErrorType
        ? decodeTrailerBody(req.trailers['lambda-runtime-function-error-body'])
        : body;
      this.settle(invocation, {
        status: 'error',
        error: toRuntimeError(req, errorBody, trailerErrorType),
        streamed: streamed || undefined,
      });
      return;
    }
    this.settle(invocation, {
      status: 'success',
      payload: streamed ? body : parseJson(body),
      streamed: streamed || undefined,
    });
  }

  private deliver(): void {
    const res = this.pendingNext;
    const invocation = this.queue[0];
    if (!res || !invocation || this.inFlight) return;
    this.queue.shift();
    this.pendingNext = undefined;
    this.inFlight = invocation;
    this.options.lifecycle?.beforeDeliver?.(invocation.requestId);
    invocation.deliveredAt = Date.now();
    res.writeHead(200, { ...invocation.headers, 'Content-Length': Buffer.byteLength(invocation.body) });
    res.end(invocation.body);
  }

  private settle(invocation: Invocation, outcome: Omit<InvocationResult, 'requestId' | 'durationMs'>): void {
    clearTimeout(invocation.timer);
    const queuedAt = this.queue.indexOf(invocation);
    if (queuedAt >= 0) this.queue.splice(queuedAt, 1);
    if (this.inFlight === invocation) this.inFlight = undefined;
    const durationMs = invocation.deliveredAt === undefined ? 0 : Date.now() - invocation.deliveredAt;
    invocation.resolve({ requestId: invocation.requestId, durationMs, ...stripUndefined(outcome) });
  }

  private rejectWaiters(error: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** ric sends the streamed error body base64-encoded in a trailer. */
function decodeTrailerBody(value: string | undefined): string {
  if (!value) return '';
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  return decoded.trimStart().startsWith('{') ? decoded : value;
}

function toRuntimeError(req: IncomingMessage, body: string, headerType?: string): RuntimeError {
  const parsed = parseJson(body);
  const fields = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  const errorTypeHeader = headerType ?? header(req, 'lambda-runtime-function-error-type');
  const cause = header(req, 'lambda-runtime-function-xray-error-cause');
  const error: RuntimeError = {
    errorType: typeof fields.errorType === 'string' ? fields.errorType : (errorTypeHeader ?? 'Unknown'),
    errorMessage: typeof fields.errorMessage === 'string' ? fields.errorMessage : String(parsed ?? ''),
  };
  if (Array.isArray(fields.trace)) error.trace = fields.trace.map(String);
  if (errorTypeHeader !== undefined) error.errorTypeHeader = errorTypeHeader;
  if (cause !== undefined) error.xrayErrorCause = parseJson(cause);
  return error;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
