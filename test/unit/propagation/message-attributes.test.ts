import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { context, createTraceState, propagation } from '@opentelemetry/api';
import {
  injectIntoMessage,
  MAX_MESSAGE_BYTES,
  type MessageInput,
} from '../../../src/propagation/message-attributes.js';
import { registerLayerGlobals, SENDER, SENDER_TRACEPARENT, SENDER_XRAY } from './setup.js';

const sqs = { systemAttribute: true } as const;
const attrs = (count: number) =>
  Object.fromEntries(
    Array.from({ length: count }, (_, i) => [`user${i}`, { DataType: 'String', StringValue: `v${i}` }]),
  );

describe('injectIntoMessage', () => {
  before(registerLayerGlobals);

  test('sets AWSTraceHeader (X-Ray format, Parent = the sending span) and traceparent on a message with room', () => {
    const message: MessageInput = {};
    const outcome = injectIntoMessage(message, SENDER, sqs);
    assert.equal(outcome.awsTraceHeader, 'set');
    assert.deepEqual(message.MessageSystemAttributes, {
      AWSTraceHeader: { DataType: 'String', StringValue: SENDER_XRAY },
    });
    assert.deepEqual(message.MessageAttributes, {
      traceparent: { DataType: 'String', StringValue: SENDER_TRACEPARENT },
    });
    assert.equal(
      (message.MessageAttributes as Record<string, unknown>)['x-amzn-trace-id'],
      undefined,
      'the X-Ray header must not take an attribute slot',
    );
  });

  for (const count of [9, 10]) {
    test(`${count} user attributes: all kept, never more than 10, AWSTraceHeader still set`, () => {
      const user = attrs(count);
      const frozen = structuredClone(user);
      const message: MessageInput = { MessageAttributes: user };
      const outcome = injectIntoMessage(message, SENDER, sqs);
      const result = message.MessageAttributes as Record<string, unknown>;
      assert.equal(Object.keys(result).length, 10);
      for (const [name, value] of Object.entries(frozen)) assert.deepEqual(result[name], value);
      assert.deepEqual(user, frozen, "the user's map was mutated");
      assert.deepEqual(outcome.added, count === 9 ? ['traceparent'] : []);
      assert.deepEqual(outcome.skipped, count === 9 ? [] : ['traceparent']);
      assert.equal(outcome.awsTraceHeader, 'set');
    });
  }

  test('a message at the 256 KiB size limit gets no message attribute, only AWSTraceHeader', () => {
    const user = { note: { DataType: 'String', StringValue: 'x' } };
    const userBytes = 'note'.length + 'String'.length + 1;
    const body = 'b'.repeat(MAX_MESSAGE_BYTES - userBytes - 20);
    const message: MessageInput = { MessageBody: body, MessageAttributes: { ...user } };
    const outcome = injectIntoMessage(message, SENDER, sqs);
    assert.deepEqual(outcome.skipped, ['traceparent']);
    assert.deepEqual(message.MessageAttributes, user);
    assert.equal(outcome.awsTraceHeader, 'set');
    // With room for it, the same message gets it.
    const smaller: MessageInput = { MessageBody: body.slice(0, -100), MessageAttributes: { ...user } };
    assert.deepEqual(injectIntoMessage(smaller, SENDER, sqs).added, ['traceparent']);
  });

  test('tracestate and baggage follow traceparent while there is room, in that order', () => {
    const withState = { ...SENDER, traceState: createTraceState('vendor=abc') };
    const bag = propagation.setBaggage(
      context.active(),
      propagation.createBaggage({ tenant: { value: 'acme' } }),
    );
    const roomy: MessageInput = { MessageAttributes: attrs(7) };
    const outcome = context.with(bag, () => injectIntoMessage(roomy, withState, sqs));
    assert.deepEqual(outcome.added, ['traceparent', 'tracestate', 'baggage']);
    assert.equal(Object.keys(roomy.MessageAttributes ?? {}).length, 10);
    const tight: MessageInput = { MessageAttributes: attrs(8) };
    const tightOutcome = context.with(bag, () => injectIntoMessage(tight, withState, sqs));
    assert.deepEqual(tightOutcome.added, ['traceparent', 'tracestate']);
    assert.deepEqual(tightOutcome.skipped, ['baggage']);
  });

  test("a user's AWSTraceHeader and traceparent are never replaced", () => {
    const userHeader = 'Root=1-11111111-222222222222222222222222;Parent=3333333333333333;Sampled=1';
    const message: MessageInput = {
      MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: userHeader } },
      MessageAttributes: { traceparent: { DataType: 'String', StringValue: 'user-value' } },
    };
    const outcome = injectIntoMessage(message, SENDER, sqs);
    assert.equal(outcome.awsTraceHeader, 'kept-user-value');
    assert.deepEqual(outcome.added, []);
    assert.equal(
      (message.MessageSystemAttributes?.AWSTraceHeader as { StringValue?: string } | undefined)
        ?.StringValue ?? '',
      userHeader,
    );
    assert.deepEqual(message.MessageAttributes, {
      traceparent: { DataType: 'String', StringValue: 'user-value' },
    });
  });

  test('the same input sent twice carries the second send, not the first', () => {
    const message: MessageInput = { MessageAttributes: attrs(9) };
    injectIntoMessage(message, SENDER, sqs);
    const second = { ...SENDER, spanId: 'aaaaaaaaaaaaaaaa' };
    injectIntoMessage(message, second, sqs);
    const header =
      (message.MessageSystemAttributes?.AWSTraceHeader as { StringValue?: string } | undefined)
        ?.StringValue ?? '';
    assert.match(header, /Parent=aaaaaaaaaaaaaaaa;/);
    const attributes = message.MessageAttributes as Record<string, { StringValue: string }>;
    assert.equal(Object.keys(attributes).length, 10);
    assert.match(attributes.traceparent?.StringValue ?? '', /-aaaaaaaaaaaaaaaa-01$/);
  });

  test('SNS (no system attribute): only message attributes', () => {
    const message: MessageInput = {};
    const outcome = injectIntoMessage(message, SENDER, { systemAttribute: false });
    assert.equal(outcome.awsTraceHeader, 'not-applicable');
    assert.equal(message.MessageSystemAttributes, undefined);
    assert.deepEqual(Object.keys(message.MessageAttributes ?? {}), ['traceparent']);
  });

  test('an invalid span context (no span) leaves the message untouched', () => {
    const message: MessageInput = { MessageAttributes: attrs(2) };
    const before = structuredClone(message);
    injectIntoMessage(message, { traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 }, sqs);
    assert.deepEqual(message, before);
  });

  test('never throws on odd input', () => {
    const hostile = {
      get MessageAttributes(): never {
        throw new Error('boom');
      },
    } as unknown as MessageInput;
    assert.doesNotThrow(() => injectIntoMessage(hostile, SENDER, sqs));
  });
});
