import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  type LocalService,
  type ServedInvoke,
  startAwsFunction,
  startLocalLambdaApi,
} from '../helpers/aws-local.js';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { startFunction, traceHeader } from '../helpers/traced-function.js';

const SERVER = 2;
const CLIENT = 3;

function find(spans: ReceivedSpan[], what: string, predicate: (span: ReceivedSpan) => boolean): ReceivedSpan {
  const span = spans.find(predicate);
  assert.ok(span, `no ${what}; got ${spans.map((s) => `${s.name}/${s.kind}/${s.traceId}`).join(', ')}`);
  return span;
}

let receiver: OtlpReceiver;
let api: LocalService & { readonly served: ServedInvoke[] };
let caller: Awaited<ReturnType<typeof startAwsFunction>>;
let callee: Awaited<ReturnType<typeof startFunction>>;

before(async () => {
  receiver = await OtlpReceiver.start();
  const env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint };
  callee = await startFunction({ runtime: 'nodejs24.x', fixture: 'cjs', functionName: 'orders-callee', env });
  api = await startLocalLambdaApi({ 'orders-callee': callee });
  caller = await startAwsFunction({
    runtime: 'nodejs24.x',
    fixture: 'aws-caller',
    functionName: 'orders-caller',
    env: { ...env, AWS_ENDPOINT_URL_LAMBDA: api.endpoint },
  });
});

after(async () => {
  await Promise.all([caller?.cleanup(), callee?.cleanup()]);
  await Promise.all([api?.close(), receiver?.close()]);
});

for (const async of [false, true]) {
  test(`Lambda Invoke (${async ? 'Event' : 'RequestResponse'}): the callee's invocation continues the caller's trace under the Invoke span`, async () => {
    const header = traceHeader(true);
    const result = await caller.invoke(
      { functionName: 'orders-callee', async, payload: { orderId: 7 } },
      { traceHeader: header.header },
    );
    assert.equal(result.status, 'success', caller.output());
    const { statusCode, payload } = result.payload as { statusCode: number; payload: unknown };
    assert.equal(statusCode, async ? 202 : 200);
    if (!async) assert.equal((payload as { ok: boolean }).ok, true);
    const served = api.served.at(-1);
    assert.ok(served);
    assert.equal(served.invocationType, async ? 'Event' : 'RequestResponse');
    await served.done;

    const callerSpan = find(
      receiver.spans,
      'caller invocation',
      (s) => s.traceId === header.traceId && s.kind === SERVER && s.name === 'orders-caller',
    );
    const invokeSpan = find(
      receiver.spans,
      'Invoke span',
      (s) => s.traceId === header.traceId && s.kind === CLIENT,
    );
    assert.equal(invokeSpan.parentSpanId, callerSpan.spanId);
    assert.equal(invokeSpan.name, 'orders-callee Invoke');
    assert.equal(invokeSpan.attributes['rpc.service'], 'Lambda');
    assert.equal(invokeSpan.attributes['rpc.method'], 'Invoke');
    assert.equal(invokeSpan.attributes['faas.invoked_name'], 'orders-callee');
    assert.equal(invokeSpan.attributes['aws.region'], 'us-east-1');
    assert.ok(invokeSpan.attributes['aws.request_id']);
    // What Lambda received: the Invoke span as the parent, not the caller's own Lambda header.
    assert.equal(
      served.traceHeader,
      `Root=1-${header.traceId.slice(0, 8)}-${header.traceId.slice(8)};Parent=${invokeSpan.spanId};Sampled=1`,
    );

    const calleeSpan = find(
      receiver.spans,
      'callee invocation',
      (s) => s.traceId === header.traceId && s.kind === SERVER && s.name === 'orders-callee',
    );
    assert.equal(calleeSpan.parentSpanId, invokeSpan.spanId);
    find(
      receiver.spans,
      'callee manual span',
      (s) => s.parentSpanId === calleeSpan.spanId && s.name === 'manual-work',
    );
  });
}
