import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_STACK_FRAMES, parseV8StackTrace } from '../../../src/xray/cause.js';

test('V8 frames of every shape parse into path, line and label', () => {
  const stack = [
    'Error: first line',
    'of a message that spans lines',
    '    at handler (/var/task/index.js:10:5)',
    '    at async Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1205:29)',
    '    at /var/task/lib/util.js:3:1',
    '    at new Promise (<anonymous>)',
    '    at Array.map (native)',
    '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
    '    at eval (eval at <anonymous> (/var/task/x.js:1:1), <anonymous>:1:1)',
    '    at Object.<anonymous> (C:\\app\\index.js:7:12)',
  ].join('\n');

  const { frames, truncated } = parseV8StackTrace(stack);
  assert.equal(truncated, 0);
  assert.deepEqual(frames, [
    { label: 'handler', path: '/var/task/index.js', line: 10 },
    { label: 'async Runtime.handleOnceNonStreaming', path: '/var/runtime/index.mjs', line: 1205 },
    { label: '', path: '/var/task/lib/util.js', line: 3 },
    { label: 'new Promise', path: '<anonymous>' },
    { label: 'Array.map', path: 'native' },
    { label: 'process.processTicksAndRejections', path: 'node:internal/process/task_queues', line: 95 },
    { label: 'eval', path: 'eval at <anonymous> (/var/task/x.js:1:1), <anonymous>', line: 1 },
    { label: 'Object.<anonymous>', path: 'C:\\app\\index.js', line: 7 },
  ]);
});

test('a real Error.stack parses, and frames past the limit are counted as truncated', () => {
  const previous = Error.stackTraceLimit;
  Error.stackTraceLimit = Number.POSITIVE_INFINITY;
  const recurse = (depth: number): Error => (depth === 0 ? new Error('deep') : recurse(depth - 1));
  const error = recurse(MAX_STACK_FRAMES + 20);
  Error.stackTraceLimit = previous;

  const { frames, truncated } = parseV8StackTrace(error.stack ?? '');
  assert.equal(frames.length, MAX_STACK_FRAMES);
  assert.ok(truncated >= 20, `truncated ${truncated}`);
  assert.ok(frames[0].path?.endsWith('cause.test.js'));
});

test('a stack with no frames gives none', () => {
  assert.deepEqual(parseV8StackTrace('Error: nothing here'), { frames: [], truncated: 0 });
  assert.deepEqual(parseV8StackTrace(''), { frames: [], truncated: 0 });
});
