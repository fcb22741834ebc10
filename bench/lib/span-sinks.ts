/**
 * Everything the benchmark's setups export to: an OTLP/gRPC receiver (this layer with `grpc`), an
 * OTLP/HTTP receiver (this layer's and the peers' default, http/protobuf) and a UDP socket standing in
 * for the X-Ray daemon (this layer's `xray` exporter, ADOT's Lambda default, the X-Ray SDK). They run
 * in a process of their own ({@link ./span-sink-process.ts}), as a collector or daemon does on Lambda.
 *
 * Spans are stamped when {@link SpanSinks.collect} returns them, not when the bytes arrive: the runner
 * collects right after each invocation, while the function is frozen, so a span collected then was
 * sent before the freeze, and one collected only after the next invocation came late.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** One span as the benchmark needs it, whatever the wire format. */
export interface ArrivedSpan {
  /** 32 lower-case hex digits (an X-Ray `1-xxxxxxxx-yyyy…` ID with its dashes removed). */
  traceId: string;
  name: string;
  /** When the span ended, epoch ms (the function's clock, which is this machine's). */
  endMs: number;
  /** When the benchmark collected it (see {@link SpanSinks.collect}), epoch ms. */
  collectedMs: number;
}

/** A span as the sink process reports it, before the runner stamps it. */
export type ReceivedSummary = Omit<ArrivedSpan, 'collectedMs'>;

/** Runner to sink process. */
export type SinkRequest = { type: 'collect' } | { type: 'close' };

/** Sink process to runner. */
export type SinkReply =
  | { type: 'ready'; grpcEndpoint: string; httpPort: number; udpPort: number }
  | { type: 'spans'; spans: ReceivedSummary[] };

/** The receivers' process, filling one list. */
export class SpanSinks {
  /** Every span collected so far, in arrival order. */
  readonly spans: ArrivedSpan[] = [];
  private collecting: Promise<number> = Promise.resolve(0);

  private constructor(
    private readonly child: ChildProcess,
    private readonly ready: Extract<SinkReply, { type: 'ready' }>,
  ) {}

  /** Starts the receivers' process, all three on ephemeral ports of 127.0.0.1. */
  static async start(): Promise<SpanSinks> {
    const child = fork(fileURLToPath(new URL('./span-sink-process.js', import.meta.url)), {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    // Between requests an 'error' (a failed send) must not be uncaught; the next request reports it.
    child.on('error', (error) => console.error(`span sink process: ${error.message}`));
    const ready = await SpanSinks.reply(child, 'ready');
    return new SpanSinks(child, ready);
  }

  /** `http://127.0.0.1:PORT` of the OTLP/gRPC receiver. */
  get grpcEndpoint(): string {
    return this.ready.grpcEndpoint;
  }

  /** `http://127.0.0.1:PORT` of the OTLP/HTTP receiver (exporters append `/v1/traces`). */
  get httpEndpoint(): string {
    return `http://127.0.0.1:${this.ready.httpPort}`;
  }

  /** `127.0.0.1:PORT` of the stand-in X-Ray daemon. */
  get daemonAddress(): string {
    return `127.0.0.1:${this.ready.udpPort}`;
  }

  /**
   * What Lambda sets when active tracing is on, pointing at the stand-in daemon; and what the X-Ray
   * SDK is told to do without a segment (log, not throw).
   */
  get lambdaTracingEnv(): Record<string, string> {
    const port = String(this.ready.udpPort);
    return {
      AWS_XRAY_DAEMON_ADDRESS: this.daemonAddress,
      _AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1',
      _AWS_XRAY_DAEMON_PORT: port,
      AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    };
  }

  /**
   * Stamps everything received since the last call and returns how many spans that was. The sink
   * process first reads whatever already waits on its sockets. Calls are taken one at a time: a reply
   * answers the request before it.
   */
  collect(): Promise<number> {
    const next = this.collecting.then(() => this.collectOnce());
    this.collecting = next.catch(() => 0);
    return next;
  }

  private async collectOnce(): Promise<number> {
    const answer = SpanSinks.reply(this.child, 'spans');
    this.child.send({ type: 'collect' } satisfies SinkRequest);
    const { spans } = await answer;
    const collectedMs = Date.now();
    for (const span of spans) this.spans.push({ ...span, collectedMs });
    return spans.length;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.send({ type: 'close' } satisfies SinkRequest);
    await exited;
  }

  /** The child's next reply of this type; rejects if it exits (or fails) first. */
  private static reply<T extends SinkReply['type']>(
    child: ChildProcess,
    type: T,
  ): Promise<Extract<SinkReply, { type: T }>> {
    return new Promise((resolve, reject) => {
      const settle = () => child.off('message', onMessage).off('exit', onExit).off('error', onError);
      const onMessage = (message: SinkReply) => {
        if (message.type !== type) return;
        settle();
        resolve(message as Extract<SinkReply, { type: T }>);
      };
      const onExit = (code: number | null, signal: string | null) => {
        settle();
        reject(new Error(`the span sink process exited (${signal ?? `status ${code}`})`));
      };
      const onError = (error: Error) => {
        settle();
        reject(new Error(`the span sink process failed: ${error.message}`));
      };
      child.on('message', onMessage).once('exit', onExit).once('error', onError);
    });
  }
}
