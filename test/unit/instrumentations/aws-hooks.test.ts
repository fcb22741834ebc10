import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { injectIntoOutgoingMessages } from '../../../src/instrumentations/aws/message-injection.js';
import { requestTraceHeaderOnReceive } from '../../../src/instrumentations/aws/receive.js';
import {
  xrayErrorAttributes,
  xrayRequestAttributes,
} from '../../../src/instrumentations/aws/xray-attributes.js';
import { registerLayerGlobals, SENDER, SENDER_TRACEPARENT, SENDER_XRAY } from '../propagation/setup.js';

describe('AWS SDK hooks', () => {
  before(registerLayerGlobals);

  test("request attributes: the names the collector's awsxray exporter reads", () => {
    assert.deepEqual(
      xrayRequestAttributes({
        serviceName: 'SQS',
        commandName: 'SendMessage',
        region: 'eu-west-1',
        commandInput: { QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/q' },
      }),
      {
        'aws.operation': 'SendMessage',
        'aws.region': 'eu-west-1',
        'aws.queue_url': 'https://sqs.eu-west-1.amazonaws.com/1/q',
        'messaging.url': 'https://sqs.eu-west-1.amazonaws.com/1/q',
      },
    );
    assert.equal(
      xrayRequestAttributes({
        serviceName: 'SNS',
        commandName: 'Publish',
        commandInput: { TopicArn: 'arn:t' },
      })['aws.sns.topic.arn'],
      'arn:t',
    );
    const invoke = xrayRequestAttributes({
      serviceName: 'Lambda',
      commandName: 'Invoke',
      commandInput: { FunctionName: 'arn:aws:lambda:us-east-1:1:function:f' },
    });
    assert.equal(invoke['faas.invoked_name'], 'arn:aws:lambda:us-east-1:1:function:f');
    assert.equal(invoke['aws.lambda.invoked_arn'], 'arn:aws:lambda:us-east-1:1:function:f');
  });

  test('errors: error.type, aws.request_id from $metadata, throttling marked', () => {
    const throttled = Object.assign(new Error('slow down'), {
      name: 'ProvisionedThroughputExceededException',
      $metadata: { requestId: 'req-1', httpStatusCode: 400 },
    });
    assert.deepEqual(xrayErrorAttributes(throttled), {
      'error.type': 'ProvisionedThroughputExceededException',
      'aws.request_id': 'req-1',
      'aws.throttled': true,
    });
    const tooMany = Object.assign(new Error('x'), { name: 'Whatever', $metadata: { httpStatusCode: 429 } });
    assert.equal(xrayErrorAttributes(tooMany)['aws.throttled'], true);
    const retryable = Object.assign(new Error('x'), { name: 'Other', $retryable: { throttling: true } });
    assert.equal(xrayErrorAttributes(retryable)['aws.throttled'], true);
    const plain = Object.assign(new Error('no'), { name: 'ResourceNotFoundException' });
    assert.deepEqual(xrayErrorAttributes(plain), { 'error.type': 'ResourceNotFoundException' });
    assert.deepEqual(xrayErrorAttributes('a string'), {});
  });

  test("SendMessageBatch: every entry gets AWSTraceHeader, the user's entry objects stay as written", () => {
    const entry = { Id: 'a', MessageBody: 'x', MessageAttributes: {} };
    const input: Record<string, unknown> = { QueueUrl: 'q', Entries: [entry, { Id: 'b', MessageBody: 'y' }] };
    injectIntoOutgoingMessages(
      { serviceName: 'SQS', commandName: 'SendMessageBatch', commandInput: input },
      SENDER,
    );
    const entries = input.Entries as {
      MessageSystemAttributes?: { AWSTraceHeader?: { StringValue: string } };
    }[];
    assert.equal(entries.length, 2);
    for (const e of entries)
      assert.equal(e.MessageSystemAttributes?.AWSTraceHeader?.StringValue, SENDER_XRAY);
    assert.deepEqual(entry, { Id: 'a', MessageBody: 'x', MessageAttributes: {} });
  });

  test('SNS Publish and PublishBatch: traceparent as a message attribute, no system attribute', () => {
    const publish: Record<string, unknown> = { TopicArn: 't', Message: 'm' };
    injectIntoOutgoingMessages({ serviceName: 'SNS', commandName: 'Publish', commandInput: publish }, SENDER);
    assert.deepEqual(publish.MessageAttributes, {
      traceparent: { DataType: 'String', StringValue: SENDER_TRACEPARENT },
    });
    assert.equal(publish.MessageSystemAttributes, undefined);
    const batch: Record<string, unknown> = {
      TopicArn: 't',
      PublishBatchRequestEntries: [{ Id: '1', Message: 'm' }],
    };
    injectIntoOutgoingMessages(
      { serviceName: 'SNS', commandName: 'PublishBatch', commandInput: batch },
      SENDER,
    );
    const [first] = batch.PublishBatchRequestEntries as { MessageAttributes?: Record<string, unknown> }[];
    assert.deepEqual(Object.keys(first?.MessageAttributes ?? {}), ['traceparent']);
  });

  test("EventBridge PutEvents: each entry's TraceHeader, unless the user set it", () => {
    const input: Record<string, unknown> = {
      Entries: [{ Source: 's' }, { Source: 's', TraceHeader: 'mine' }],
    };
    injectIntoOutgoingMessages(
      { serviceName: 'EventBridge', commandName: 'PutEvents', commandInput: input },
      SENDER,
    );
    assert.deepEqual(
      (input.Entries as { TraceHeader?: string }[]).map((e) => e.TraceHeader),
      [SENDER_XRAY, 'mine'],
    );
  });

  test('other commands are left alone', () => {
    const input: Record<string, unknown> = { TableName: 't', Item: {} };
    injectIntoOutgoingMessages(
      { serviceName: 'DynamoDB', commandName: 'PutItem', commandInput: input },
      SENDER,
    );
    assert.deepEqual(input, { TableName: 't', Item: {} });
  });

  test("ReceiveMessage asks for AWSTraceHeader, keeping the caller's names", () => {
    const bare: Record<string, unknown> = { QueueUrl: 'q' };
    requestTraceHeaderOnReceive({ serviceName: 'SQS', commandName: 'ReceiveMessage', commandInput: bare });
    assert.deepEqual(bare.MessageSystemAttributeNames, ['AWSTraceHeader']);
    assert.equal(bare.AttributeNames, undefined);
    const legacy: Record<string, unknown> = { QueueUrl: 'q', AttributeNames: ['SentTimestamp'] };
    requestTraceHeaderOnReceive({ serviceName: 'SQS', commandName: 'ReceiveMessage', commandInput: legacy });
    assert.deepEqual(legacy.AttributeNames, ['SentTimestamp', 'AWSTraceHeader']);
    const all: Record<string, unknown> = { QueueUrl: 'q', MessageSystemAttributeNames: ['All'] };
    requestTraceHeaderOnReceive({ serviceName: 'SQS', commandName: 'ReceiveMessage', commandInput: all });
    assert.deepEqual(all.MessageSystemAttributeNames, ['All']);
  });
});
