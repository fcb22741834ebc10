import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { RuntimeApiEmulator, RuntimeInitError } from '../../../src/local/runtime-api-emulator.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A bare-bones runtime client: one HTTP call to the emulator. */
function call(
  address: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
) {
  const [host, port] = address.split(':');
  return new Promise<Reply>((resolve, reject) => {
    const req = request({ host, port: Number(port), method, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const NEXT = '/2018-06-01/runtime/invocation/next';

describe('RuntimeApiEmulator', () => {
  let emulator: RuntimeApiEmulator;
  before(async () => {
    emulator = await RuntimeApiEmulator.start({ functionName: 'fn', region: 'eu-west-1' });
  });
  after(() => emulator.close());

  it('listens on an ephemeral 127.0.0.1 port', () => {
    assert.match(emulator.address, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(emulator.address, '127.0.0.1:0');
  });

  it('long-polls /next until an invoke arrives, with the Lambda headers', async () => {
    const next = call(emulator.address, 'GET', NEXT);
    await emulator.waitForNext();
    const before = Date.now();
    const result = emulator.invoke(
      { hello: 'world' },
      {
        traceHeader: 'Root=1-abc;Sampled=1',
        clientContext: { custom: 1 },
        timeoutMs: 2000,
        requestId: 'req-1',
      },
    );
    const event = await next;
    assert.equal(event.status, 200);
    assert.deepEqual(JSON.parse(event.body), { hello: 'world' });
    assert.equal(event.headers['lambda-runtime-aws-request-id'], 'req-1');
    assert.equal(event.headers['lambda-runtime-trace-id'], 'Root=1-abc;Sampled=1');
    assert.equal(event.headers['lambda-runtime-client-context'], '{"custom":1}');
    assert.equal(
      event.headers['lambda-runtime-invoked-function-arn'],
      'arn:aws:lambda:eu-west-1:123456789012:function:fn',
    );
    const deadline = Number(event.headers['lambda-runtime-deadline-ms']);
    assert.ok(deadline >= before + 2000 && deadline <= Date.now() + 2000, `deadline ${deadline}`);

    const posted = await call(
      emulator.address,
      'POST',
      '/2018-06-01/runtime/invocation/req-1/response',
      '{"ok":true}',
    );
    assert.equal(posted.status, 202);
    const done = await result;
    assert.equal(done.status, 'success');
    assert.deepEqual(done.payload, { ok: true });
  });

  it('omits the trace header when none is given', async () => {
    const result = emulator.invoke({}, { requestId: 'req-2' });
    const event = await call(emulator.address, 'GET', NEXT);
    assert.equal(event.headers['lambda-runtime-trace-id'], undefined);
    assert.equal(event.headers['lambda-runtime-client-context'], undefined);
    await call(emulator.address, 'POST', '/2018-06-01/runtime/invocation/req-2/response', 'null');
    assert.equal((await result).payload, null);
  });

  it('reports /error with its body and error-type header', async () => {
    const result = emulator.invoke({}, { requestId: 'req-3' });
    await call(emulator.address, 'GET', NEXT);
    const body = JSON.stringify({ errorType: 'TypeError', errorMessage: 'boom', trace: ['TypeError: boom'] });
    const posted = await call(emulator.address, 'POST', '/2018-06-01/runtime/invocation/req-3/error', body, {
      'Lambda-Runtime-Function-Error-Type': 'Runtime.TypeError',
    });
    assert.equal(posted.status, 202);
    const done = await result;
    assert.equal(done.status, 'error');
    assert.deepEqual(done.error, {
      errorType: 'TypeError',
      errorMessage: 'boom',
      trace: ['TypeError: boom'],
      errorTypeHeader: 'Runtime.TypeError',
    });
  });

  it('rejects a response for an unknown request id', async () => {
    const posted = await call(emulator.address, 'POST', '/2018-06-01/runtime/invocation/nope/response', '{}');
    assert.equal(posted.status, 400);
  });

  it('times out at the deadline', async () => {
    const started = Date.now();
    const result = emulator.invoke({}, { requestId: 'req-4', timeoutMs: 50 });
    await call(emulator.address, 'GET', NEXT);
    const done = await result;
    assert.equal(done.status, 'timeout');
    assert.ok(Date.now() - started >= 45, `timed out after ${Date.now() - started} ms`);
  });

  it('records an init error, fails waitForNext and the next invoke as crashed', async () => {
    const waiting = assert.rejects(emulator.waitForNext(), RuntimeInitError);
    const body = JSON.stringify({ errorType: 'Runtime.ImportModuleError', errorMessage: 'no module' });
    const posted = await call(emulator.address, 'POST', '/2018-06-01/runtime/init/error', body);
    assert.equal(posted.status, 202);
    await waiting;
    const done = await emulator.invoke({});
    assert.equal(done.status, 'crashed');
    assert.equal(done.error?.errorType, 'Runtime.ImportModuleError');
    emulator.reset();
    assert.equal(emulator.initError, undefined);
  });
});
