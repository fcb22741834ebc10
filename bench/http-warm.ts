/**
 * Warm cost of the HTTP client instrumentations: the same function (test/fixtures/functions/http-client)
 * making two outbound calls per invocation (http.get and fetch to a local server), run untraced,
 * through the layer with the http/undici/http2 instrumentations off, and with them on, in
 * alternating rounds. Prints the median wall time of an invoke (event sent to response received,
 * the export before the response included).
 *
 * Usage: node build/bench/http-warm.js [--rounds 5 --warm 40 --runtime nodejs24.x --exporter otlp|none]
 * (after `npx tsc -p tsconfig.json` and `node layer/build.mjs`; LAYER_DIR picks another build).
 */
import { parseArgs } from 'node:util';
import type { RuntimeName } from '../src/local/runtime-entries.js';
import { startHttpFunction } from '../test/e2e/http-harness.js';
import { HttpServers } from '../test/helpers/http-servers.js';
import { OtlpReceiver } from '../test/helpers/otlp-receiver.js';
import { traceHeader } from '../test/helpers/traced-function.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    warm: { type: 'string', default: '40' },
    runtime: { type: 'string', default: 'nodejs24.x' },
    // `none` keeps the spans in the process: the instrumentations' own cost, without exporting them.
    exporter: { type: 'string', default: 'otlp' },
  },
});
const runtime = values.runtime as RuntimeName;

type Setup = 'untraced' | 'layer, http off' | 'layer, http on';
const SETUPS: Setup[] = ['untraced', 'layer, http off', 'layer, http on'];

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function measure(setup: Setup, receiver: OtlpReceiver, servers: HttpServers): Promise<number[]> {
  const env: Record<string, string> = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint };
  if (setup === 'layer, http off') env.OTEL_NODE_DISABLED_INSTRUMENTATIONS = 'http,undici,http2';
  if (values.exporter === 'none') env.OTEL_TRACES_EXPORTER = 'none';
  const fn = await startHttpFunction(runtime, 'http-client', env, setup !== 'untraced');
  try {
    const event = {
      calls: [
        { client: 'http.get', url: `${servers.urls.http}/bench-get` },
        { client: 'fetch', url: `${servers.urls.http}/bench-fetch` },
      ],
    };
    const durations: number[] = [];
    for (let i = 0; i < Number(values.warm) + 1; i++) {
      const started = performance.now();
      const result = await fn.invoke(event, { traceHeader: traceHeader(true).header });
      // Wall time around the invoke: the emulator's own `durationMs` counts whole milliseconds.
      const elapsed = performance.now() - started;
      if (result.status !== 'success') throw new Error(`${setup}: ${fn.output()}`);
      if (i > 0) durations.push(elapsed); // The first is the cold start.
    }
    return durations;
  } finally {
    await fn.cleanup();
  }
}

const receiver = await OtlpReceiver.start();
const servers = await HttpServers.start();
const samples = new Map<Setup, number[]>(SETUPS.map((s) => [s, []]));
try {
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const setup of SETUPS) samples.get(setup)?.push(median(await measure(setup, receiver, servers)));
  }
} finally {
  await servers.close();
  await receiver.close();
}

const off = median(samples.get('layer, http off') ?? []);
console.log(
  `warm invocation with 2 outbound calls, ${runtime}, exporter ${values.exporter}, median of ${values.rounds} rounds x ${values.warm}`,
);
console.log('| setup | warm p50 (ms) | added by the http instrumentations |');
console.log('| --- | --- | --- |');
for (const setup of SETUPS) {
  const p50 = median(samples.get(setup) ?? []);
  const added = setup === 'layer, http on' ? `+${(p50 - off).toFixed(2)}` : '';
  console.log(`| ${setup} | ${p50.toFixed(2)} | ${added} |`);
}
