import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { LocalView } from '../../src/cli/local-view/local-view.js';
import { renderTrace } from '../../src/cli/local-view/render-tree.js';
import { startFunction, traceHeader } from '../helpers/traced-function.js';
import { assertValidDocument } from '../unit/xray/helpers.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SCREENSHOT = path.join(repoRoot, 'test-results/local-view.png');
const CHROMIUM = '/usr/bin/chromium';

const xrayTraceId = (otelTraceId: string) => `1-${otelTraceId.slice(0, 8)}-${otelTraceId.slice(8)}`;

describe('the local view (otel-lambda-xray local)', () => {
  let view: LocalView;
  const traces: { ok: string; failed: string; daemon: string; grpc: string } = {
    ok: '',
    failed: '',
    daemon: '',
    grpc: '',
  };

  before(async () => {
    view = await LocalView.start({ udpPort: 0, otlpPort: 0, otlpHttpPort: 0, webPort: 0 });
    // One function exports over OTLP/HTTP (the default collector path), one over OTLP/gRPC, one to
    // the daemon over UDP.
    const overOtlp = await startFunction({
      runtime: 'nodejs24.x',
      fixture: 'cjs',
      functionName: 'orders-api',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: view.otlpHttpEndpoint },
    });
    const overGrpc = await startFunction({
      runtime: 'nodejs24.x',
      fixture: 'cjs',
      functionName: 'orders-api-grpc',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: view.otlpEndpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
    });
    const overUdp = await startFunction({
      runtime: 'nodejs24.x',
      fixture: 'cjs',
      functionName: 'order-worker',
      env: { OTEL_TRACES_EXPORTER: 'xray', AWS_XRAY_DAEMON_ADDRESS: view.daemonAddress },
    });
    try {
      const ok = traceHeader(true);
      const failed = traceHeader(true);
      const daemon = traceHeader(true);
      const grpc = traceHeader(true);
      assert.equal((await overOtlp.invoke({}, { traceHeader: ok.header })).status, 'success');
      assert.equal((await overGrpc.invoke({}, { traceHeader: grpc.header })).status, 'success');
      assert.equal(
        (await overOtlp.invoke({ action: 'throw', orderId: 9 }, { traceHeader: failed.header })).status,
        'error',
      );
      assert.equal((await overUdp.invoke({}, { traceHeader: daemon.header })).status, 'success');
      traces.ok = xrayTraceId(ok.traceId);
      traces.failed = xrayTraceId(failed.traceId);
      traces.daemon = xrayTraceId(daemon.traceId);
      traces.grpc = xrayTraceId(grpc.traceId);
      for (const traceId of Object.values(traces)) {
        await view.store.waitFor(traceId, (trace) => trace.documents.size >= 2);
      }
    } finally {
      await overOtlp.cleanup();
      await overGrpc.cleanup();
      await overUdp.cleanup();
    }
  });
  after(() => view?.close());

  test('spans arriving over OTLP become schema-valid X-Ray documents; the terminal shows the tree', () => {
    const trace = view.store.get(traces.failed);
    assert.ok(trace);
    for (const document of trace.documents.values()) assertValidDocument(document);
    const tree = renderTrace(trace);
    assert.match(tree, new RegExp(`^trace ${traces.failed}  orders-api`));
    assert.match(tree, /^orders-api \[AWS::Lambda::Function\]\s+\d+\.\d ms @\+0\.0 ms\s+FAULT$/m);
    assert.match(tree, /cause E_ORDER: bad order 9/);
    assert.match(tree, /annotations .*faas_trigger=other/);
    assert.match(tree, /└─ manual-work\s+\d+\.\d ms @\+\d+\.\d ms$/m);
    assert.match(tree, /parent [0-9a-f]{16}: Lambda's own segment/);

    const fromDaemon = view.store.get(traces.daemon);
    assert.match(renderTrace(fromDaemon ?? assert.fail('no daemon trace')), /order-worker/);
    const summary = view.store.summaries().find((s) => s.traceId === traces.failed);
    assert.equal(summary?.fault, true);
    assert.equal(view.store.summaries().find((s) => s.traceId === traces.ok)?.fault, false);
  });

  test('the web page lists the traces, draws the waterfall and the service map (headless Chromium)', async () => {
    // Installs Debian's chromium when it is missing (a no-op when it is there).
    const setup = spawnSync(process.execPath, [path.join(repoRoot, 'test/setup/chromium.mjs')], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    assert.equal(setup.status, 0, `test/setup/chromium.mjs could not provide ${CHROMIUM}`);
    const profile = mkdtempSync(path.join(tmpdir(), 'chromium-profile-'));
    // A persistent context is how playwright takes a fresh --user-data-dir.
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      viewport: { width: 1400, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(view.webUrl);
      const row = page.locator(`tr[data-trace-id="${traces.failed}"]`);
      await row.waitFor({ timeout: 5000 });
      assert.match((await row.textContent()) ?? '', /orders-api[\s\S]*Fault/);
      assert.equal(await page.locator('#traces tbody tr').count(), Object.keys(traces).length);
      await row.click();
      await page.locator('#trace-title', { hasText: traces.failed }).waitFor({ timeout: 5000 });
      const waterfall = page.locator('#waterfall .row');
      await waterfall.nth(1).waitFor();
      assert.equal(await waterfall.count(), 2);
      assert.match((await waterfall.nth(0).textContent()) ?? '', /segment\s*orders-api\s*fault/);
      assert.match((await waterfall.nth(1).textContent()) ?? '', /manual-work/);
      // Clicking a row shows the segment document itself.
      await waterfall.nth(0).click();
      assert.match(
        (await page.locator('#document').textContent()) ?? '',
        /"origin": "AWS::Lambda::Function"/,
      );
      // The service map: the client, both functions, the one with a fault in red.
      await page.locator('#service-map g.node[data-node="order-worker"]').waitFor({ timeout: 5000 });
      assert.equal(await page.locator('#service-map g.node.client').count(), 1);
      assert.equal(await page.locator('#service-map g.node.fault[data-node="orders-api"]').count(), 1);
      assert.deepEqual(errors, []);
      mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      assert.ok(statSync(SCREENSHOT).size > 10_000, 'the screenshot is empty');
    } finally {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
