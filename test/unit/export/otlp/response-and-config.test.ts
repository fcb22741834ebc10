import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import otlpRoot from 'otlp-proto-root/build/src/generated/root.js';
import { readPartialSuccess } from '../../../../src/export/otlp/decode-export-response.js';
import { grpcOrigin, toGrpcMetadata } from '../../../../src/export/otlp/exporter-config.js';
import { formatGrpcTimeout, statusFromHttp } from '../../../../src/export/otlp/grpc-status.js';
import { withBuiltin } from '../../../../src/export/otlp/http-request.js';

interface ResponseType {
  encode(message: unknown): { finish(): Uint8Array };
}
const ExportTraceServiceResponse = (
  otlpRoot as unknown as {
    opentelemetry: { proto: { collector: { trace: { v1: Record<string, ResponseType> } } } };
  }
).opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;

/** A gRPC response body: the length-prefixed message. */
function framed(message: unknown): Buffer {
  const bytes = ExportTraceServiceResponse.encode(message).finish();
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([prefix, bytes]);
}

describe('readPartialSuccess', () => {
  it('reads rejected spans and the error message', () => {
    assert.deepEqual(
      readPartialSuccess(framed({ partialSuccess: { rejectedSpans: 3, errorMessage: 'too old: ü' } })),
      {
        rejectedSpans: 3,
        errorMessage: 'too old: ü',
      },
    );
    assert.deepEqual(readPartialSuccess(framed({ partialSuccess: { rejectedSpans: 2 ** 40 } })), {
      rejectedSpans: 2 ** 40,
      errorMessage: '',
    });
  });

  it('returns undefined for full success, an empty partial success, or an unreadable body', () => {
    assert.equal(readPartialSuccess(framed({})), undefined);
    assert.equal(readPartialSuccess(Buffer.alloc(5)), undefined);
    assert.equal(readPartialSuccess(framed({ partialSuccess: {} })), undefined);
    assert.equal(readPartialSuccess(Buffer.alloc(0)), undefined);
    assert.equal(readPartialSuccess(Buffer.from([1, 0, 0, 0, 1, 0])), undefined, 'compressed');
    assert.equal(readPartialSuccess(Buffer.from([0, 0, 0, 0, 3, 0x0a, 0x05, 0x08])), undefined, 'truncated');
  });

  it('skips unknown fields', () => {
    // field 9 varint, field 10 fixed64, field 11 bytes, field 12 fixed32, then partial_success.
    const message = Buffer.from([
      0x48, 0x96, 0x01, 0x51, 1, 2, 3, 4, 5, 6, 7, 8, 0x5a, 0x02, 0xaa, 0xbb, 0x65, 1, 2, 3, 4, 0x0a, 0x02,
      0x08, 0x07,
    ]);
    const prefix = Buffer.from([0, 0, 0, 0, message.length]);
    assert.deepEqual(readPartialSuccess(Buffer.concat([prefix, message])), {
      rejectedSpans: 7,
      errorMessage: '',
    });
  });
});

describe('exporter configuration', () => {
  it('derives the origin from the endpoint URL', () => {
    assert.equal(grpcOrigin('http://localhost:4317'), 'http://localhost:4317');
    assert.equal(grpcOrigin('https://collector.example:443/ignored/path'), 'https://collector.example');
    assert.equal(grpcOrigin('127.0.0.1:4317'), 'http://127.0.0.1:4317');
    assert.equal(grpcOrigin('HTTP://[::1]:4317'), 'http://[::1]:4317');
    assert.throws(() => grpcOrigin('unix:///tmp/socket'), /unsupported endpoint scheme/);
    assert.throws(() => grpcOrigin('http://'), /not a valid URL/);
  });

  it('lower-cases metadata names and drops reserved or invalid entries', () => {
    assert.deepEqual(
      toGrpcMetadata({
        'X-Api-Key': 'k',
        'trace-bin': 'AAEC',
        'grpc-timeout': '1S',
        'content-type': 'text/plain',
        ':path': '/x',
        'x-empty': '',
        'x-tab': 'a\tb',
        'x-utf8': 'é',
      }),
      { 'x-api-key': 'k', 'trace-bin': 'AAEC', 'x-empty': '' },
    );
    assert.deepEqual(toGrpcMetadata(undefined), {});
  });

  it('formats grpc-timeout within 8 digits', () => {
    assert.equal(formatGrpcTimeout(200), '200m');
    assert.equal(formatGrpcTimeout(0.2), '1m');
    assert.equal(formatGrpcTimeout(-5), '1m');
    assert.equal(formatGrpcTimeout(99_999_999), '99999999m');
    assert.equal(formatGrpcTimeout(100_000_000), '100000S');
  });

  it('maps HTTP statuses to gRPC codes per the gRPC spec', () => {
    assert.equal(statusFromHttp(503), 14);
    assert.equal(statusFromHttp(401), 16);
    assert.equal(statusFromHttp(404), 12);
    assert.equal(statusFromHttp(500), 2);
  });
});

test('a built-in module is looked up once, then handed over from memory', (t) => {
  // require-in-the-middle wraps process.getBuiltinModule: each lookup costs a patched require.
  const lookup = t.mock.method(process, 'getBuiltinModule');
  const seen: unknown[] = [];
  const fail = (error: unknown) => assert.fail(String(error));
  withBuiltin<typeof import('node:v8')>('node:v8', (v8) => seen.push(v8), fail);
  withBuiltin<typeof import('node:v8')>('node:v8', (v8) => seen.push(v8), fail);
  assert.equal(lookup.mock.callCount(), 1);
  assert.equal(seen.length, 2);
  assert.equal(seen[0], seen[1]);
  assert.equal(typeof (seen[0] as typeof import('node:v8')).getHeapStatistics, 'function');
});
