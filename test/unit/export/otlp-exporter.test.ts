import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/load-config.js';
import { settleWhenSent } from '../../../src/export/otlp-exporter.js';

const decide = (env: Record<string, string>) => settleWhenSent(loadConfig(env).config);

describe('settleWhenSent (OTEL_LAMBDA_XRAY_FLUSH_UNTIL)', () => {
  it('auto: once sent for a collector on this host, the default endpoint included', () => {
    assert.equal(decide({}), true);
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]']) {
      assert.equal(decide({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://${host}:4318` }), true, host);
    }
  });

  it('auto: on the answer for a collector elsewhere', () => {
    for (const host of ['collector.internal', '10.0.0.7', '128.0.0.1', 'localhost.example.com']) {
      assert.equal(decide({ OTEL_EXPORTER_OTLP_ENDPOINT: `https://${host}:4318` }), false, host);
    }
  });

  it('an explicit value wins, for gRPC as for HTTP', () => {
    assert.equal(decide({ OTEL_LAMBDA_XRAY_FLUSH_UNTIL: 'answered' }), false);
    assert.equal(
      decide({
        OTEL_LAMBDA_XRAY_FLUSH_UNTIL: 'sent',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.internal',
      }),
      true,
    );
    assert.equal(decide({ OTEL_LAMBDA_XRAY_FLUSH_UNTIL: 'sent', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), true);
    assert.equal(
      decide({ OTEL_LAMBDA_XRAY_FLUSH_UNTIL: 'answered', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }),
      false,
    );
    assert.equal(decide({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), true, 'auto, the default endpoint');
  });
});
