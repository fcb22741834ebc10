import { context, diag, trace } from '@opentelemetry/api';
import { outgoingXrayHeader, passedOnFields, passedOnFieldsOf } from '../../propagation/xray-header.js';

const HEADER = 'X-Amzn-Trace-Id';
const NAME = 'otelLambdaXrayTraceHeader';

/** The parts of a smithy middleware stack this module uses. */
interface MiddlewareStackLike {
  add(middleware: unknown, options: Record<string, unknown>): void;
}
interface HttpRequestLike {
  headers?: Record<string, string>;
}
type Next = (args: { request?: unknown }) => Promise<unknown>;

/**
 * Sets the request's `X-Amzn-Trace-Id` header to the SDK call's own span. Inside Lambda the SDK's
 * recursion-detection middleware sets it to the function's trace header (`_X_AMZN_TRACE_ID`), so
 * the service the call reaches (the callee of a Lambda `Invoke`, an SNS topic, a Step Functions
 * execution) would hang off the function's segment, beside the call rather than under it. The
 * header is not signed by SigV4 (it is on its always-unsignable list), so setting it late is safe.
 * The header's other fields go on (`Lineage`, Lambda's recursive-loop count): from the header the
 * SDK set, else from the invocation's context.
 */
function traceHeaderMiddleware(next: Next) {
  return (args: { request?: unknown }) => {
    try {
      const request = args.request as HttpRequestLike | undefined;
      const headers = request?.headers;
      const active = context.active();
      const span = trace.getSpan(active);
      if (headers !== undefined && span !== undefined) {
        const present = Object.keys(headers).filter((name) => name.toLowerCase() === 'x-amzn-trace-id');
        // The SDK's own header (Lambda's) or the user's: its other fields (Lineage) go on.
        let fields: string | undefined;
        for (const name of present) fields ??= passedOnFieldsOf(String(headers[name]));
        const header = outgoingXrayHeader(span.spanContext(), fields ?? passedOnFields(active));
        if (header !== undefined) {
          for (const name of present) delete headers[name];
          headers[HEADER] = header;
        }
      }
    } catch (error) {
      diag.debug(`could not set X-Amzn-Trace-Id on an AWS SDK request: ${String(error)}`);
    }
    return next(args);
  };
}

const patched = new WeakSet<object>();

/**
 * Adds the trace-header middleware to a client's or command's middleware stack, once. `override`
 * lets the SDK merge a client stack and a command stack that both hold it (`concat`) without a
 * duplicate-name error.
 */
export function addTraceHeaderMiddleware(stack: unknown): void {
  if (typeof stack !== 'object' || stack === null || patched.has(stack)) return;
  patched.add(stack);
  try {
    (stack as MiddlewareStackLike).add(traceHeaderMiddleware, {
      step: 'finalizeRequest',
      priority: 'low',
      name: NAME,
      override: true,
    });
  } catch (error) {
    diag.debug(`could not add the trace-header middleware to an AWS SDK client: ${String(error)}`);
  }
}
