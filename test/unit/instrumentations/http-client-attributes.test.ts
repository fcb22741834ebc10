import assert from 'node:assert/strict';
import type { RequestOptions } from 'node:http';
import { describe, test } from 'node:test';
import type { Attributes, Span } from '@opentelemetry/api';
import type { UndiciRequest } from '@opentelemetry/instrumentation-undici';
import { httpInstrumentationConfig } from '../../../src/instrumentations/http.js';
import { isRuntimeApi, queryOf, safeUrl } from '../../../src/instrumentations/http-client-attributes.js';
import { undiciInstrumentationConfig } from '../../../src/instrumentations/undici.js';

describe('safeUrl', () => {
  test('drops credentials and the fragment, redacts sensitive query values, keeps the rest byte for byte', () => {
    assert.equal(
      safeUrl('https://user:p%40ss@api.example.com:8443/v1/items?id=7&token=abc&X-Amz-Signature=f00#frag'),
      'https://api.example.com:8443/v1/items?id=7&token=REDACTED&X-Amz-Signature=REDACTED',
    );
    assert.equal(safeUrl('http://127.0.0.1:80/a?q=caf%C3%A9'), 'http://127.0.0.1/a?q=caf%C3%A9');
    assert.equal(
      safeUrl('http://[::1]:3000/x?apiKey=k&access_token=t'),
      'http://[::1]:3000/x?apiKey=REDACTED&access_token=REDACTED',
    );
    assert.equal(safeUrl('https://example.com'), 'https://example.com/');
  });

  test('a string the URL parser refuses keeps neither its query nor its credentials', () => {
    assert.equal(safeUrl('http://us er:secret@bad host/p?token=x'), 'http://bad host/p');
  });

  test('queryOf reads the query back without its "?"', () => {
    assert.equal(queryOf('https://e.com/p?a=1&b=2'), 'a=1&b=2');
    assert.equal(queryOf('https://e.com/p'), '');
  });
});

describe('the Runtime API is never traced', () => {
  test('isRuntimeApi matches host:port, host alone when it carries the port, and nothing without the variable', () => {
    assert.equal(isRuntimeApi('127.0.0.1:9001', '127.0.0.1', 9001), true);
    assert.equal(isRuntimeApi('127.0.0.1:9001', '127.0.0.1', '9001'), true);
    assert.equal(isRuntimeApi('127.0.0.1:9001', '127.0.0.1:9001', undefined), true);
    assert.equal(isRuntimeApi('127.0.0.1:9001', '127.0.0.1', 9002), false);
    assert.equal(isRuntimeApi(undefined, '127.0.0.1', 9001), false);
  });

  test('http ignores it, and undici ignores its origin', () => {
    const http = httpInstrumentationConfig('127.0.0.1:9001');
    assert.equal(http.ignoreOutgoingRequestHook?.({ hostname: '127.0.0.1', port: 9001 }), true);
    assert.equal(http.ignoreOutgoingRequestHook?.({ hostname: '127.0.0.1', port: 8080 }), false);
    const undici = undiciInstrumentationConfig('127.0.0.1:9001');
    const request = (origin: string) => ({ origin, path: '/', method: 'GET' }) as unknown as UndiciRequest;
    assert.equal(undici.ignoreRequestHook?.(request('http://127.0.0.1:9001')), true);
    assert.equal(undici.ignoreRequestHook?.(request('http://127.0.0.1:9002')), false);
  });
});

describe('instrumentation settings', () => {
  test('http: no server spans, client spans only under a parent, older attribute names at start', () => {
    const config = httpInstrumentationConfig(undefined);
    assert.equal(config.disableIncomingRequestInstrumentation, true);
    assert.equal(config.requireParentforOutgoingSpans, true);
    const options = {
      protocol: 'https:',
      hostname: 'api.example.com',
      port: 443,
      path: '/orders?password=hunter2',
      method: 'post',
      auth: 'me:secret',
    } as RequestOptions;
    assert.deepEqual(config.startOutgoingSpanHook?.(options), {
      'url.full': 'https://api.example.com/orders?password=REDACTED',
      'http.url': 'https://api.example.com/orders?password=REDACTED',
      'http.method': 'POST',
    });
  });

  test('http and undici record http.status_code from the response', () => {
    const set: Attributes = {};
    const span = { setAttribute: (k: string, v: number) => (set[k] = v) } as unknown as Span;
    httpInstrumentationConfig(undefined).responseHook?.(span, { statusCode: 418 } as never);
    assert.equal(set['http.status_code'], 418);
    undiciInstrumentationConfig(undefined).responseHook?.(span, {
      request: {} as UndiciRequest,
      response: { statusCode: 503, headers: [], statusText: '' },
    });
    assert.equal(set['http.status_code'], 503);
  });

  test('undici: url.full and url.query replaced by their redacted form', () => {
    const config = undiciInstrumentationConfig(undefined);
    assert.equal(config.requireParentforSpans, true);
    const request = {
      origin: 'https://api.example.com',
      path: '/v1?sig=abc&x=1',
      method: 'GET',
    } as UndiciRequest;
    assert.deepEqual(config.startSpanHook?.(request), {
      'url.full': 'https://api.example.com/v1?sig=REDACTED&x=1',
      'http.url': 'https://api.example.com/v1?sig=REDACTED&x=1',
      'http.method': 'GET',
      'url.query': 'sig=REDACTED&x=1',
    });
  });
});
