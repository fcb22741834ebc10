import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { LAMBDA_CONTEXT, makeTracing } from '../xray/helpers.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const CLI = path.join(repoRoot, 'build/src/cli/main.js');

function run(args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const waiters = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const wake of waiters) wake();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  /** Resolves with the output once it matches `pattern`. */
  const waitFor = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(output);
        if (match === null) return;
        waiters.delete(check);
        resolve(match);
      };
      waiters.add(check);
      exited.then(() => reject(new Error(`exited before ${pattern}:\n${output}`)));
      check();
    });
  return { child, exited, waitFor, output: () => output };
}

test('otel-lambda-xray local: prints a received trace as a tree, serves it, stops cleanly on Ctrl-C', async () => {
  const cli = run(['local', '--udp-port', '0', '--otlp-port', '0', '--otlp-http-port', '0', '--port', '0']);
  const [, daemon] = await cli.waitFor(/X-Ray daemon \(UDP\)\s+(\S+)/);
  const [, web] = await cli.waitFor(/web view\s+(\S+)/);
  const [host, port] = (daemon ?? '').split(':');
  const socket = createSocket('udp4');
  const segment = {
    name: 'orders-api',
    id: '70de5b6f19ff9a0a',
    trace_id: '1-581cf771-a006649127e371903a2de979',
    start_time: 1478293361.271,
    end_time: 1478293361.449,
    fault: true,
    http: { request: { method: 'GET', url: 'https://example.com/orders/1' }, response: { status: 502 } },
  };
  const child = {
    name: 'orders-db',
    id: '70de5b6f19ff9a0b',
    parent_id: segment.id,
    type: 'subsegment',
    namespace: 'remote',
    trace_id: segment.trace_id,
    start_time: 1478293361.3,
    end_time: 1478293361.35,
    sql: { database_type: 'PostgreSQL', sanitized_query: 'SELECT * FROM orders WHERE id = $1' },
  };
  for (const document of [segment, child]) {
    await new Promise<void>((resolve) =>
      socket.send(`{"format":"json","version":1}\n${JSON.stringify(document)}`, Number(port), host, () =>
        resolve(),
      ),
    );
  }
  socket.send('not a daemon datagram', Number(port), host);
  await cli.waitFor(/warning: datagram of 21 bytes ignored/);
  await cli.waitFor(/└─ orders-db \[remote\] {2}50\.0 ms @\+29\.0 ms/);
  const output = cli.output();
  assert.match(
    output,
    /^trace 1-581cf771-a006649127e371903a2de979 {2}orders-api GET \/orders\/1 {2}178\.0 ms/m,
  );
  assert.match(output, /^orders-api \[segment\] {2}178\.0 ms @\+0\.0 ms {2}FAULT$/m);
  assert.match(output, /http GET https:\/\/example\.com\/orders\/1 -> 502/);
  assert.match(output, /sql PostgreSQL: SELECT \* FROM orders WHERE id = \$1/);
  socket.close();

  const list = (await (await fetch(new URL('api/traces', web))).json()) as Array<{
    traceId: string;
    fault: boolean;
  }>;
  assert.deepEqual(
    list.map((t) => [t.traceId, t.fault]),
    [['1-581cf771-a006649127e371903a2de979', true]],
  );
  cli.child.kill('SIGINT');
  assert.equal(await cli.exited, 0, cli.output());
});

test('a bad flag or a port in use stops the CLI with a clear message', async () => {
  const bad = run(['local', '--port', 'eighty']);
  assert.equal(await bad.exited, 2);
  assert.match(bad.output(), /--port must be a port number, not "eighty"/);
  const badHttp = run(['local', '--otlp-http-port', '70000']);
  assert.equal(await badHttp.exited, 2);
  assert.match(badHttp.output(), /--otlp-http-port must be a port number, not "70000"/);
  assert.match(badHttp.output(), /--otlp-http-port N +OTLP\/HTTP port, POST \/v1\/traces \(default 4318\)/);

  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const busy = run([
    'local',
    '--udp-port',
    String(socket.address().port),
    '--otlp-port',
    '0',
    '--otlp-http-port',
    '0',
    '--port',
    '0',
  ]);
  assert.equal(await busy.exited, 1);
  assert.match(busy.output(), /port \d+ is in use .*--udp-port, --otlp-http-port, --otlp-port and --port/);
  socket.close();

  const unknown = run(['serve']);
  assert.equal(await unknown.exited, 2);
  assert.match(unknown.output(), /unknown command "serve"/);
});

test('otel-lambda-xray local --otlp-http-port: spans POSTed to the printed OTLP/HTTP endpoint are printed', async () => {
  const cli = run(['local', '--udp-port', '0', '--otlp-port', '0', '--otlp-http-port', '0', '--port', '0']);
  const [, endpoint] = await cli.waitFor(/OTLP\/HTTP\s+(\S+)\s+functions: OTEL_EXPORTER_OTLP_ENDPOINT=\1\n/);
  await cli.waitFor(
    /OTLP\/gRPC\s+(\S+)\s+functions: OTEL_EXPORTER_OTLP_ENDPOINT=\1 OTEL_EXPORTER_OTLP_PROTOCOL=grpc\n/,
  );
  const { record } = makeTracing();
  const span = record('GET /over-http', { kind: 1 }, LAMBDA_CONTEXT);
  const response = await fetch(`${endpoint}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body: ProtobufTraceSerializer.serializeRequest([span]),
  });
  assert.equal(response.status, 200);
  const id = span.spanContext().traceId;
  await cli.waitFor(new RegExp(`^trace 1-${id.slice(0, 8)}-${id.slice(8)} {2}orders-api`, 'm'));
  cli.child.kill('SIGINT');
  assert.equal(await cli.exited, 0, cli.output());
});
