/**
 * How the warm profile reads `perf script` output: samples and their call chains, JavaScript frames
 * from V8's perf map, and the category each sample's time is put in.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  byCategory,
  categorise,
  layerFunctions,
  type PerfSample,
  parsePerfScript,
} from '../../../bench/lib/perf-samples.js';

const NODE = '/opt/runtimes/node/bin/node';
const MAP = '/tmp/perf-4100.map';
const LAYER = '/opt/layer/otel-lambda-xray/lib.cjs';
const isLayer = (file: string) => file.startsWith('/opt/layer/');

// Four samples as `perf script -F comm,pid,tid,ip,sym,dso` prints them (addresses shortened).
const SCRIPT = `MainThread 4100/4100 
\t    7f6f4a0bb5d4 Builtins_RegExpPrototypeExec (${NODE})
\t    7f6f4a0bb394 JS:~parseLambdaHeader ${LAYER}:19285:27 (${MAP})
\t    7f6f4a0ba3d4 JS:^start ${LAYER}:19310:8 (${MAP})
\t    7f6f4a0b9d14 JS:^processInvoke file:///opt/runtimes/node_modules/aws-lambda-ric/index.mjs:1092:22 (${MAP})
\t         1638a97 uv_run (${NODE})

MainThread 4100/4100 
\t    7f6f4a074803 JS:+'get fired ${LAYER}:19215:3 (${MAP})
\t    7f6f4a0ba3d4 JS:^start ${LAYER}:19310:8 (${MAP})

MainThread 4100/4100 
\t    ffffffff8225f759 pvm_irq_enable ([kernel.kallsyms])
\t    7fd371246cae __libc_sendmsg (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t    7f6f4a0bd054 JS:^doSend node:dgram:834:16 (${MAP})

V8Worker 4100/4105 
\t         11c0b2a v8::internal::maglev::MaglevGraphBuilder::BuildBody (${NODE})
\t         1638a97 v8::platform::DefaultWorkerThreadsTaskRunner::WorkerThread::Run (${NODE})

this line is not a sample
`;

describe('parsePerfScript', () => {
  it('reads each sample with its thread and frames, JavaScript frames named, tiered and located', () => {
    const samples = parsePerfScript(SCRIPT);
    assert.equal(samples.length, 4);
    const first = samples[0];
    assert.deepEqual(
      { thread: first?.thread, pid: first?.pid, tid: first?.tid, frames: first?.frames.length },
      { thread: 'MainThread', pid: 4100, tid: 4100, frames: 5 },
    );
    assert.deepEqual(first?.frames[0], { symbol: 'Builtins_RegExpPrototypeExec', dso: NODE });
    assert.deepEqual(first?.frames[1]?.js, {
      name: 'parseLambdaHeader',
      file: LAYER,
      line: 19285,
      tier: '~',
    });
    assert.equal(first?.frames[3]?.js?.file, 'file:///opt/runtimes/node_modules/aws-lambda-ric/index.mjs');
    // A Maglev frame (`+'`) whose name holds a space.
    assert.deepEqual(samples[1]?.frames[0]?.js, { name: 'get fired', file: LAYER, line: 19215, tier: '+' });
    assert.equal(samples[2]?.frames[0]?.dso, '[kernel.kallsyms]');
    assert.equal(samples[3]?.tid, 4105);
  });
});

describe('categorise', () => {
  const samples = parsePerfScript(SCRIPT);
  const sample = (index: number): PerfSample => {
    const found = samples[index];
    assert.ok(found, `sample ${index}`);
    return found;
  };
  it('gives the layer every main-thread sample with one of its frames on the chain, whatever it called', () => {
    assert.equal(categorise(sample(0), isLayer), 'layer JS');
    assert.equal(categorise(sample(1), isLayer), 'layer JS');
  });
  it('otherwise goes by the innermost JavaScript frame, then by the native ones', () => {
    assert.equal(categorise(sample(2), isLayer), 'Node core JS');
    // Not the layer's: its innermost JavaScript frame is code of no known place.
    assert.equal(
      categorise(sample(0), () => false),
      'other JS',
    );
    const ric = { ...sample(0), frames: sample(0).frames.slice(3) };
    assert.equal(categorise(ric, isLayer), 'runtime client JS');
    const kernelOnly = {
      thread: 'MainThread',
      pid: 1,
      tid: 1,
      frames: [{ symbol: 'do_syscall_64', dso: '[kernel.kallsyms]' }],
    };
    assert.equal(categorise(kernelOnly, isLayer), 'kernel');
  });
  it("puts other threads' samples under the workers, V8's compiler apart", () => {
    assert.equal(categorise(sample(3), isLayer), 'workers: compiling');
  });
  it('counts every category, those without samples at zero', () => {
    const counts = byCategory(samples, isLayer);
    assert.equal(counts.get('layer JS'), 2);
    assert.equal(counts.get('Node core JS'), 1);
    assert.equal(counts.get('workers: compiling'), 1);
    assert.equal(counts.get('GC'), 0);
    assert.equal(
      [...counts.values()].reduce((a, b) => a + b, 0),
      4,
    );
  });
});

describe('layerFunctions', () => {
  it("counts each of the layer's functions once per main-thread sample it is on, largest first", () => {
    assert.deepEqual(layerFunctions(parsePerfScript(SCRIPT), isLayer), [
      ['start (lib.cjs:19310)', 2],
      ['parseLambdaHeader (lib.cjs:19285)', 1],
      ['get fired (lib.cjs:19215)', 1],
    ]);
  });
});
