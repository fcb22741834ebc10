import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DiagLogger, DiagLogLevel, diag } from '@opentelemetry/api';
import { startTracing } from '../../../src/bootstrap/start-tracing.js';
import { loadConfig } from '../../../src/config/load-config.js';

test('the sampler variables are read once, by the layer: no second, contradicting error from the SDK', async () => {
  const logged: string[] = [];
  const record = (level: string) => (message: string) => logged.push(`${level} ${message}`);
  const logger: DiagLogger = {
    error: record('error'),
    warn: record('warn'),
    info: record('info'),
    debug: () => {},
    verbose: () => {},
  };
  diag.setLogger(logger, DiagLogLevel.INFO);
  process.env.OTEL_TRACES_SAMPLER = 'Always_On';
  process.env.OTEL_TRACES_SAMPLER_ARG = 'abc';
  try {
    const { config, warnings } = loadConfig({ ...process.env, AWS_LAMBDA_FUNCTION_NAME: 'unit-fn' });
    assert.equal(config.sampler, 'always_on', 'the layer reads the value in any case');
    assert.deepEqual(warnings, ['OTEL_TRACES_SAMPLER_ARG value "abc" invalid, using 1']);
    const { provider } = startTracing(config);
    assert.deepEqual(logged, []);
    // The function still sees its environment as it was set.
    assert.equal(process.env.OTEL_TRACES_SAMPLER, 'Always_On');
    assert.equal(process.env.OTEL_TRACES_SAMPLER_ARG, 'abc');
    await provider.shutdown();
  } finally {
    delete process.env.OTEL_TRACES_SAMPLER;
    delete process.env.OTEL_TRACES_SAMPLER_ARG;
    diag.disable();
  }
});
