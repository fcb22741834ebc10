import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';

// What the ADOT Lambda collector extension ships; anything else fails the collector at start-up.
const SHIPPED = {
  receivers: new Set(['otlp']),
  exporters: new Set(['awsxray', 'awsemf', 'debug', 'otlp', 'otlphttp', 'prometheusremotewrite']),
  extensions: new Set(['sigv4auth']),
  processors: new Set<string>(),
};
type Section = keyof typeof SHIPPED;

const config = parse(
  readFileSync(new URL('../../../../collector-config.yaml', import.meta.url), 'utf8'),
) as Record<string, Record<string, unknown> | undefined>;

/** A component id is `type` or `type/name`. */
const typeOf = (id: string): string => id.split('/')[0] ?? id;

test('only components the ADOT Lambda collector ships are defined', () => {
  for (const section of Object.keys(SHIPPED) as Section[]) {
    for (const id of Object.keys(config[section] ?? {})) {
      assert.ok(
        SHIPPED[section].has(typeOf(id)),
        `${section}.${id} is not shipped by the ADOT Lambda collector`,
      );
    }
  }
});

test('every pipeline references defined, shipped components', () => {
  const service = config.service as {
    pipelines: Record<string, Record<string, string[]>>;
    extensions?: string[];
  };
  assert.ok(Object.keys(service.pipelines).length > 0, 'no pipeline');
  for (const [name, pipeline] of Object.entries(service.pipelines)) {
    assert.ok((pipeline.receivers ?? []).length > 0, `${name} has no receiver`);
    assert.ok((pipeline.exporters ?? []).length > 0, `${name} has no exporter`);
    for (const section of ['receivers', 'processors', 'exporters'] as const) {
      for (const id of pipeline[section] ?? []) {
        assert.ok(
          id in (config[section] ?? {}),
          `pipeline ${name} uses ${section}.${id}, which is not defined`,
        );
        assert.ok(SHIPPED[section].has(typeOf(id)), `pipeline ${name} uses unshipped ${section}.${id}`);
      }
    }
  }
  for (const id of service.extensions ?? [])
    assert.ok(id in (config.extensions ?? {}), `extension ${id} undefined`);
});

test('traces go from OTLP on localhost (gRPC 4317, HTTP 4318) to X-Ray', () => {
  const otlp = config.receivers?.otlp as {
    protocols: { grpc: { endpoint: string }; http: { endpoint: string } };
  };
  assert.equal(otlp.protocols.grpc.endpoint, 'localhost:4317');
  assert.equal(otlp.protocols.http.endpoint, 'localhost:4318');
  const traces = (config.service as { pipelines: Record<string, Record<string, string[]>> }).pipelines.traces;
  assert.deepEqual(traces?.receivers, ['otlp']);
  assert.ok(traces?.exporters?.includes('awsxray'));
});

test('the annotations X-Ray can search by include the invocation attributes the layer sets', () => {
  const awsxray = config.exporters?.awsxray as { indexed_attributes: string[] };
  for (const key of ['faas.trigger', 'faas.coldstart', 'http.route', 'messaging.destination.name']) {
    assert.ok(awsxray.indexed_attributes.includes(key), key);
  }
});
