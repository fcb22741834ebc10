/**
 * AWS SDK for JavaScript v3 calls, through `@opentelemetry/instrumentation-aws-sdk`, with what
 * X-Ray and message consumers need that it lacks (each addition says why where it is made):
 *
 * - the attribute names the collector's `awsxray` exporter reads into the `aws` block;
 * - `aws.request_id`, `error.type` and throttling for failed calls;
 * - SQS messages carry their trace in `AWSTraceHeader` (which costs no attribute slot) and, where
 *   there is room, in W3C message attributes, never pushing a message past 10 attributes or
 *   replacing a user's; SNS messages and EventBridge events likewise;
 * - the `X-Amzn-Trace-Id` request header names the call's span, so a Lambda `Invoke` callee
 *   continues the caller's trace under the `Invoke` span;
 * - `ReceiveMessage` asks for `AWSTraceHeader` and links the receive span to each sender.
 *
 * @module
 */
import { diag, type Span } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import {
  AwsInstrumentation,
  type AwsSdkInstrumentationConfig,
  type NormalizedRequest,
  type NormalizedResponse,
} from '@opentelemetry/instrumentation-aws-sdk';
import type { Config } from '../config/load-config.js';
import { injectIntoOutgoingMessages } from './aws/message-injection.js';
import { linkReceivedMessages, requestTraceHeaderOnReceive } from './aws/receive.js';
import { addTraceHeaderMiddleware } from './aws/trace-header-middleware.js';
import { xrayErrorAttributes, xrayRequestAttributes } from './aws/xray-attributes.js';

/**
 * Creates the AWS SDK v3 instrumentation with the layer's hooks. With `OTEL_PROPAGATORS=none` the
 * calls are still traced but nothing is put on messages or requests.
 */
export function createAwsSdkInstrumentation(config: Pick<Config, 'propagators'>): Instrumentation[] {
  const propagate = config.propagators.length > 0;
  const hooks: AwsSdkInstrumentationConfig = {
    // Every SDK call would otherwise also make an HTTP span beneath it, which X-Ray would draw as
    // a second remote node for the same call.
    suppressInternalInstrumentation: true,
    preRequestHook: (span, { request }) => beforeRequest(span, request, propagate),
    responseHook: (span, { response }) => afterResponse(span, response),
    exceptionHook: (span, _request, error) => span.setAttributes(xrayErrorAttributes(error)),
  };
  const instrumentation = new AwsInstrumentation(hooks);
  takeOverMessageInjection(instrumentation);
  if (propagate) addMiddlewareOnPatch(instrumentation);
  return [instrumentation];
}

function beforeRequest(span: Span, request: NormalizedRequest, propagate: boolean): void {
  span.setAttributes(xrayRequestAttributes(request));
  if (!propagate) return;
  injectIntoOutgoingMessages(request, span.spanContext());
  requestTraceHeaderOnReceive(request);
}

function afterResponse(span: Span, response: NormalizedResponse): void {
  // The collector reads `aws.request_id`; the contrib instrumentation writes `aws.request.id`.
  if (typeof response.requestId === 'string' && response.requestId !== '') {
    span.setAttribute('aws.request_id', response.requestId);
  }
  const status = (response.data as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata
    ?.httpStatusCode;
  // The older name, which collector versions before the stable HTTP conventions read.
  if (typeof status === 'number') span.setAttribute('http.status_code', status);
  linkReceivedMessages(span, response);
}

/** The contrib's internals this module reaches into, checked before use. */
interface ServiceExtensionLike {
  requestPostSpanHook?: (request: NormalizedRequest) => void;
}
interface InstrumentationInternals {
  servicesExtensions?: { services?: Map<string, ServiceExtensionLike> };
  patchV3MiddlewareStack?: (moduleVersion: string | undefined, stack: unknown) => void;
}

/** Commands whose message injection this module does itself (see `message-injection.ts`). */
const OWN_INJECTION: Readonly<Record<string, readonly string[]>> = {
  SQS: ['SendMessage', 'SendMessageBatch'],
  SNS: ['Publish'],
};

/**
 * The contrib instrumentation injects into message attributes itself, after the request hook: all
 * propagator fields or none (so with 7 user attributes, none), the X-Ray header among them (a
 * wasted slot beside `AWSTraceHeader`), and over a user's own `traceparent`. For the commands this
 * module handles, its injection is switched off. If its internals change shape, its injection
 * simply stays on: it never exceeds the limit either, it only does less well.
 */
function takeOverMessageInjection(instrumentation: AwsInstrumentation): void {
  const services = (instrumentation as unknown as InstrumentationInternals).servicesExtensions?.services;
  for (const [service, commands] of Object.entries(OWN_INJECTION)) {
    const extension = services?.get(service);
    const original = extension?.requestPostSpanHook;
    if (extension === undefined || typeof original !== 'function') {
      diag.debug(`aws-sdk: ${service} message injection left to the contrib instrumentation`);
      continue;
    }
    extension.requestPostSpanHook = (request) => {
      if (!commands.includes(request.commandName)) original.call(extension, request);
    };
  }
}

/** Adds the trace-header middleware to every middleware stack the contrib instrumentation patches. */
function addMiddlewareOnPatch(instrumentation: AwsInstrumentation): void {
  const internals = instrumentation as unknown as InstrumentationInternals;
  const original = internals.patchV3MiddlewareStack;
  if (typeof original !== 'function') {
    diag.debug('aws-sdk: X-Amzn-Trace-Id stays the SDK default (contrib internals changed)');
    return;
  }
  internals.patchV3MiddlewareStack = function patchV3MiddlewareStack(moduleVersion, stack) {
    original.call(this, moduleVersion, stack);
    addTraceHeaderMiddleware(stack);
  };
}
