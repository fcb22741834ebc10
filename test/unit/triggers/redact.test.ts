import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSensitiveName, redactRawQuery } from '../../../src/lambda/triggers/index.js';
import { queryFromParameters } from '../../../src/lambda/triggers/redact.js';

describe('query redaction', () => {
  it('redacts token and keeps page', () => {
    assert.equal(redactRawQuery('token=secret&page=2'), 'token=REDACTED&page=2');
  });

  it('treats the semantic conventions list and common secrets as sensitive', () => {
    for (const name of [
      'X-Amz-Signature',
      'X-Amz-Credential',
      'X-Amz-Security-Token',
      'AWSAccessKeyId',
      'Signature',
      'sig',
      'X-Goog-Signature',
      'token',
      'access_token',
      'id_token',
      'refresh-token',
      'client_secret',
      'password',
      'passwd',
      'pwd',
      'key',
      'api_key',
      'apiKey',
      'API-KEY',
      'apikey',
      'auth',
      'Authorization',
      'code',
      'session',
      'sessionId',
      'credential',
      'jwt',
      'otp',
      // Glued to the word before them, as applications name them.
      'PHPSESSID',
      'passcode',
      'appkey',
      'licensekey',
      'clientKey',
      'sign',
      'hmac',
      'x-hmac-sha256',
    ]) {
      assert.equal(isSensitiveName(name), true, name);
    }
  });

  it('leaves ordinary names alone', () => {
    for (const name of [
      'page',
      'q',
      'sort',
      'format',
      'id',
      'orderId',
      'design',
      'monkey',
      'zipcode',
      'limit',
    ]) {
      assert.equal(isSensitiveName(name), false, name);
    }
  });

  it('keeps keys, order, encoding and valueless keys', () => {
    assert.equal(redactRawQuery(''), '');
    assert.equal(redactRawQuery('a=1&b=%20x&token&c='), 'a=1&b=%20x&token&c=');
    assert.equal(redactRawQuery('a=1&Signature=abc%2F&a=2'), 'a=1&Signature=REDACTED&a=2');
  });

  it('matches encoded keys without throwing on bad escapes', () => {
    assert.equal(redactRawQuery('api%5Fkey=x&q=1'), 'api%5Fkey=REDACTED&q=1');
    assert.equal(redactRawQuery('%E0%A4%A=x&pass+word=y'), '%E0%A4%A=x&pass+word=REDACTED');
  });

  it('rebuilds decoded payload 1.0 parameters, encoded', () => {
    assert.equal(queryFromParameters({ q: 'a b&c', token: 't' }, null, true), 'q=a%20b%26c&token=REDACTED');
    assert.equal(
      queryFromParameters(null, { page: ['1', '2'], sig: ['x'] }, true),
      'page=1&page=2&sig=REDACTED',
    );
    assert.equal(queryFromParameters(null, null, true), '');
  });
});
