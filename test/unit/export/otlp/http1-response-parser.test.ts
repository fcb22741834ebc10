import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Http1ParseError, Http1ResponseParser } from '../../../../src/export/otlp/http1-response-parser.js';

/** Feeds `text` in pieces of `size` bytes; returns the response (or undefined) after the last one. */
function parse(text: string | Buffer, size = Number.POSITIVE_INFINITY) {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1');
  const parser = new Http1ResponseParser();
  let response: ReturnType<Http1ResponseParser['feed']>;
  for (let at = 0; at < bytes.length; at += Math.min(size, bytes.length)) {
    assert.equal(response, undefined, 'complete before its last byte');
    response = parser.feed(bytes.subarray(at, Math.min(bytes.length, at + size)));
  }
  return { response, parser };
}

const collectorOk =
  'HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nDate: x\r\nContent-Length: 0\r\n\r\n';

describe('Http1ResponseParser', () => {
  it('reads a Content-Length response whole or byte by byte, and keeps the connection', () => {
    for (const size of [Number.POSITIVE_INFINITY, 1, 3]) {
      const { response } = parse(
        'HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/x-protobuf\r\nContent-Length: 5\r\n\r\nhello',
        size,
      );
      assert.equal(response?.status, 503);
      assert.equal(response?.reason, 'Service Unavailable');
      assert.equal(response?.headers.get('content-type'), 'application/x-protobuf');
      assert.equal(response?.body.toString(), 'hello');
      assert.equal(response?.keepAlive, true);
    }
    assert.equal(parse(collectorOk).response?.body.length, 0);
  });

  it('reads a chunked body with extensions and trailers, split anywhere', () => {
    const text =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n';
    for (const size of [Number.POSITIVE_INFINITY, 1, 4, 7]) {
      const { response } = parse(text, size);
      assert.equal(response?.body.toString(), 'abcde', `pieces of ${size}`);
      assert.equal(response?.keepAlive, true);
    }
  });

  it('skips interim responses', () => {
    const { response } = parse(`HTTP/1.1 100 Continue\r\n\r\n${collectorOk}`);
    assert.equal(response?.status, 200);
  });

  it('honours Connection: close and HTTP/1.0 without keep-alive', () => {
    assert.equal(parse(collectorOk.replace('Date: x', 'Connection: close')).response?.keepAlive, false);
    assert.equal(parse(collectorOk.replace('HTTP/1.1', 'HTTP/1.0')).response?.keepAlive, false);
    assert.equal(
      parse(collectorOk.replace('HTTP/1.1', 'HTTP/1.0').replace('Date: x', 'Connection: keep-alive')).response
        ?.keepAlive,
      true,
    );
  });

  it('reads a body delimited by the end of the connection', () => {
    const { response, parser } = parse('HTTP/1.1 200 OK\r\n\r\npartial');
    assert.equal(response, undefined);
    const ended = parser.end();
    assert.equal(ended.body.toString(), 'partial');
    assert.equal(ended.keepAlive, false);
  });

  it('refuses what it cannot trust: bad status line, bad length, cut short, bytes past the end', () => {
    assert.throws(() => parse('HTTP/2 200\r\n\r\n'), Http1ParseError);
    assert.throws(() => parse('HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n'), Http1ParseError);
    assert.throws(() => parse('HTTP/1.1 200 OK\r\nno colon\r\n\r\n'), Http1ParseError);
    assert.throws(() => parse(`${collectorOk}HTTP/1.1`), /bytes after the end/);
    const { parser } = parse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    assert.throws(() => parser.end(), /mid-response/);
    assert.throws(() => new Http1ResponseParser().end(), /^Http1ParseError: connection closed$/);
    assert.throws(() => parse(Buffer.alloc(20_000, 0x61)), /head too large/);
  });
});
