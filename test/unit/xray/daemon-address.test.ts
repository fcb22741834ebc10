import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DiagLogger, DiagLogLevel, diag } from '@opentelemetry/api';
import { parseDaemonAddress, resolveDaemonAddress } from '../../../src/xray/daemon-address.js';

test('host:port, [ipv6]:port and the tcp/udp pair parse', () => {
  assert.deepEqual(parseDaemonAddress('169.254.79.129:2000'), { host: '169.254.79.129', port: 2000 });
  assert.deepEqual(parseDaemonAddress(' xray-daemon:2001 '), { host: 'xray-daemon', port: 2001 });
  assert.deepEqual(parseDaemonAddress('[::1]:2000'), { host: '::1', port: 2000 });
  assert.deepEqual(parseDaemonAddress('tcp:127.0.0.1:2000 udp:127.0.0.2:2001'), {
    host: '127.0.0.2',
    port: 2001,
  });
  assert.deepEqual(parseDaemonAddress('udp:10.0.0.1:3000 tcp:10.0.0.1:3001'), {
    host: '10.0.0.1',
    port: 3000,
  });
});

test('malformed values do not parse', () => {
  for (const value of [
    '',
    'localhost',
    '127.0.0.1:',
    ':2000',
    '127.0.0.1:0',
    '127.0.0.1:70000',
    'a:b:c',
    'udp:1.2.3.4:5',
    '[nothost]:1',
  ]) {
    assert.equal(parseDaemonAddress(value), undefined, value);
  }
});

test('a malformed address falls back to 127.0.0.1:2000 with one warning naming the variable', () => {
  const warnings: string[] = [];
  const logger: DiagLogger = {
    error: () => {},
    warn: (message) => warnings.push(message),
    info: () => {},
    debug: () => {},
    verbose: () => {},
  };
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  try {
    assert.deepEqual(resolveDaemonAddress('not an address'), { host: '127.0.0.1', port: 2000 });
    assert.deepEqual(resolveDaemonAddress(undefined), { host: '127.0.0.1', port: 2000 });
    assert.deepEqual(resolveDaemonAddress('10.1.2.3:2000'), { host: '10.1.2.3', port: 2000 });
  } finally {
    diag.disable();
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /AWS_XRAY_DAEMON_ADDRESS/);
  assert.match(warnings[0], /not an address/);
});
