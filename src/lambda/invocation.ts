import {
  type Context,
  diag,
  type Link,
  type Span,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { type Config, daemonTarget } from '../config/load-config.js';
import type { ExportHealth } from '../export/export-health.js';
import { messageLinks } from '../propagation/message-links.js';
import { withPassedOnFields } from '../propagation/xray-header.js';
import { DeadlineGuard, DeadlineTimer } from './deadline-guard.js';
import { type Flush, type FlushOutcome, flushWithinDeadline } from './flush.js';
import { type ArnAttributes, arnAttributes } from './function-resource.js';
import { selectInvocationParent } from './incoming-context.js';
import { lambdaTraceHeader, readLambdaHeader, type TraceableLambdaContext } from './parent-context.js';
import { describeInvocation, describeResult, type InvocationDescription } from './triggers/index.js';

/** What the invocation tracer needs from the bootstrap. */
export interface InvocationTracerConfig {
  readonly tracer: Tracer;
  /** Exports every span ended so far (`undefined`: all handed over already, see {@link Flush}). */
  readonly flush: Flush;
  /**
   * Called when a flush gave up at its bound: exports still in flight must then stop keeping the
   * event loop busy (a callback handler's runtime answers only once it is empty). They go on, and
   * finish on a later thaw.
   */
  readonly releaseExports?: () => void;
  readonly config: Readonly<Config>;
  readonly health: ExportHealth;
}

/** How the handler ended, as the wrapper saw it. */
export type Outcome =
  | { readonly ok: true; readonly result: unknown }
  /** A response-streaming handler's promise resolved: its response went out in the stream, unseen. */
  | { readonly ok: true; readonly streamed: true }
  | { readonly ok: false; readonly error: unknown };

// Leave the runtime a little time to post the response after the flush gave up.
const RESPONSE_RESERVE_MS = 50;

/**
 * What `finish` returns when there is nothing left to wait for (the spans were handed over before
 * it returned): the wrapper then passes the result on without another promise turn.
 */
export const FINISHED: Promise<void> = Promise.resolve();

/** Starts one span per invocation and ends and flushes it before the response leaves. */
export class InvocationTracer {
  private coldStart = process.env.AWS_LAMBDA_INITIALIZATION_TYPE !== 'provisioned-concurrency';
  private readonly arnCache = new Map<string, ArnAttributes>();
  /** The timer every invocation's deadline guard arms in turn. */
  private readonly deadlineTimer = new DeadlineTimer();

  constructor(private readonly options: InvocationTracerConfig) {}

  /** Starts the invocation span; its context is the one the handler must run in. */
  start(event: unknown, lambdaContext: TraceableLambdaContext | undefined): ActiveInvocation {
    const { config } = this.options;
    const description = describeInvocation(event);
    const header = lambdaTraceHeader(lambdaContext);
    // Lambda's trace header, or the HTTP caller's when the policy says so; the other one is linked.
    const lambda = readLambdaHeader(header);
    const selected = selectInvocationParent(
      lambda.parent,
      description.incomingHeaders,
      config.incomingContext,
    );
    const links = selected.links;
    // Whichever parent was chosen, Lambda's Lineage goes on with every trace header written.
    const parent = withPassedOnFields(selected.context, lambda.passedOn);
    const coldStart = this.coldStart;
    this.coldStart = false;
    const fromMessages = messageLinks(event, description.source);
    const allLinks: readonly Link[] =
      fromMessages.length === 0 ? links : links.length === 0 ? fromMessages : [...links, ...fromMessages];
    const span = this.options.tracer.startSpan(
      description.spanName ?? config.lambda.functionName,
      // The SDK copies the links it is given.
      allLinks.length === 0
        ? { kind: description.kind }
        : { kind: description.kind, links: allLinks as Link[] },
      parent,
    );
    // Set here, not passed to startSpan, which copies and checks them twice more for the sampler:
    // the samplers this layer offers (OTEL_TRACES_SAMPLER) decide on the parent and trace ID alone.
    // Set one group at a time (the SDK copies each): no object of them all is built first.
    span.setAttributes(description.attributes);
    span.setAttribute('faas.trigger', description.trigger);
    span.setAttribute('faas.coldstart', coldStart);
    const requestId = lambdaContext?.awsRequestId;
    if (typeof requestId === 'string') span.setAttribute('faas.invocation_id', requestId);
    const arn = lambdaContext?.invokedFunctionArn;
    if (typeof arn === 'string' && arn !== '') {
      span.setAttribute('aws.lambda.invoked_arn', arn);
      const { 'cloud.resource_id': resourceId, 'cloud.account.id': accountId } = this.arnAttributesFor(arn);
      span.setAttribute('cloud.resource_id', resourceId);
      if (accountId !== undefined) span.setAttribute('cloud.account.id', accountId);
    }
    return new ActiveInvocation(
      span,
      trace.setSpan(parent, span),
      description,
      lambdaContext,
      this.options,
      this.deadlineTimer,
    );
  }

  private arnAttributesFor(arn: string): ArnAttributes {
    let cached = this.arnCache.get(arn);
    if (cached === undefined) {
      cached = arnAttributes(arn, this.options.config.lambda.functionVersion);
      this.arnCache.set(arn, cached);
    }
    return cached;
  }
}

/** One invocation in progress. */
export class ActiveInvocation {
  private readonly guard: DeadlineGuard;
  private finished: Promise<void> | undefined;
  /** The flush the deadline guard started, which a late `finish` must still wait for. */
  private deadlineFlush: Promise<void> | undefined;

  constructor(
    private readonly span: Span,
    /** The context the handler runs in: the invocation span is active. */
    readonly context: Context,
    private readonly description: InvocationDescription,
    private readonly lambdaContext: TraceableLambdaContext | undefined,
    private readonly options: InvocationTracerConfig,
    deadlineTimer?: DeadlineTimer,
  ) {
    this.guard = new DeadlineGuard(
      this.remainingMs(),
      options.config.timeoutMarginMs,
      () => this.onDeadline(),
      deadlineTimer,
    );
  }

  /**
   * Ends the span with the outcome and flushes, within the flush timeout and the time left.
   * Idempotent: a handler that both calls back and resolves is finished once. Never rejects.
   */
  finish(outcome: Outcome): Promise<void> {
    this.finished ??= this.endAndFlush(outcome);
    return this.finished;
  }

  /** Not `async`: when the export is handed over at once, the response waits for no extra turn. */
  private endAndFlush(outcome: Outcome): Promise<void> {
    this.guard.cancel();
    // The deadline guard already ended the span and flushed; the handler went on, and the spans it
    // ended since must leave before the response too (within what time is left).
    if (this.guard.fired) {
      const again = () =>
        this.flush(
          Math.max(0, (this.remainingMs() ?? 0) - RESPONSE_RESERVE_MS),
          'the time left before the deadline',
        );
      return (this.deadlineFlush ?? FINISHED).then(again, again);
    }
    try {
      if (!outcome.ok) {
        recordError(this.span, outcome.error);
      } else if ('result' in outcome) {
        // (A streamed response went out in the stream, status prelude included: nothing to describe.)
        const described = describeResult(this.description, outcome.result);
        this.span.setAttributes(described.attributes);
        if (described.status) this.span.setStatus(described.status);
      }
    } catch (error) {
      diag.debug(`could not describe the invocation's outcome: ${String(error)}`);
    }
    const { flushTimeoutMs } = this.options.config;
    const remaining = this.remainingMs();
    const left = remaining === undefined ? undefined : Math.max(0, remaining - RESPONSE_RESERVE_MS);
    return left !== undefined && left < flushTimeoutMs
      ? this.endAndExport(left, 'the time left before the deadline')
      : this.endAndExport(flushTimeoutMs, 'OTEL_LAMBDA_XRAY_FLUSH_TIMEOUT_MS');
  }

  /** A timer callback: whatever throws here must be caught, or it would take the function down. */
  private onDeadline(): void {
    const margin = this.options.config.timeoutMarginMs;
    try {
      this.span.setAttribute('error.type', 'timeout');
      this.span.setStatus({
        code: SpanStatusCode.ERROR,
        message: `Lambda function timed out: still running ${margin} ms before its deadline`,
      });
    } catch (error) {
      diag.debug(`could not mark the invocation span timed out: ${String(error)}`);
    }
    this.deadlineFlush = this.endAndExport(
      Math.max(0, (this.remainingMs() ?? margin) - RESPONSE_RESERVE_MS),
      'the time left before the deadline',
    );
  }

  /**
   * Ends the span and flushes within `boundMs`. Never throws nor rejects: a span processor or an
   * exporter that fails must not turn the handler's result into an error, nor (on the deadline
   * guard's timer) take the function down; the spans already queued still leave.
   */
  private endAndExport(boundMs: number, boundBy: string): Promise<void> {
    try {
      this.span.end();
    } catch (error) {
      diag.debug(`could not end the invocation span: ${String(error)}`);
    }
    try {
      return this.flush(boundMs, boundBy);
    } catch (error) {
      diag.debug(`could not export the invocation's spans: ${String(error)}`);
      return FINISHED;
    }
  }

  /** Flushes within `boundMs`; `boundBy` names what set the bound, for the warning. Never rejects. */
  private flush(boundMs: number, boundBy: string): Promise<void> {
    const outcome = flushWithinDeadline(this.options.flush, boundMs);
    if (typeof outcome === 'string') {
      this.afterFlush(outcome, boundMs, boundBy);
      return FINISHED;
    }
    return outcome.then((settled) => this.afterFlush(settled, boundMs, boundBy));
  }

  private afterFlush(outcome: FlushOutcome, boundMs: number, boundBy: string): void {
    if (outcome === 'timed-out') {
      this.options.releaseExports?.();
      this.options.health.report(
        'slow',
        `spans not exported within ${boundMs} ms (${boundBy}); ${exportTarget(this.options.config)}`,
      );
    }
  }

  private remainingMs(): number | undefined {
    try {
      const remaining = this.lambdaContext?.getRemainingTimeInMillis?.();
      return typeof remaining === 'number' && Number.isFinite(remaining) ? remaining : undefined;
    } catch {
      return undefined;
    }
  }
}

/** The question to ask the reader of a slow-export warning, for the exporter in use. */
function exportTarget(config: Readonly<Config>): string {
  return config.exporter === 'xray'
    ? `is ${daemonTarget(config.xrayDaemonAddress)} reachable?`
    : `is the collector listening at ${config.otlpEndpoint}?`;
}

/** Marks the span failed with the error as thrown; the error itself is left untouched. */
function recordError(span: Span, error: unknown): void {
  if (error instanceof Error) {
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  } else {
    const message = typeof error === 'string' ? error : safeString(error);
    span.recordException(message);
    span.setStatus({ code: SpanStatusCode.ERROR, message });
  }
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return 'non-Error value thrown';
  }
}
