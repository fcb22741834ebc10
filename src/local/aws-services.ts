import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

/** A local service on 127.0.0.1 and an ephemeral port. */
export interface LocalService {
  readonly endpoint: string;
  close(): Promise<void>;
}

/** A listening HTTP server as a {@link LocalService}. */
export function serviceOf(server: Server): LocalService {
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Starts `server` on 127.0.0.1 and an ephemeral port. */
export async function listenLocally(server: Server): Promise<LocalService> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return serviceOf(server);
}

/**
 * `local-aws-sqs`: the SQS JSON protocol of `@aws-sdk/client-sqs` v3, in this process. A
 * development dependency, loaded only when called.
 */
export async function startLocalSqs(): Promise<LocalService> {
  const { createSqsServer } = await import('local-aws-sqs');
  const server = await createSqsServer({
    port: 0,
    hostname: '127.0.0.1',
    // AWS makes a deleted queue's name unusable for 60 s; local runs create fresh names anyway.
    emulateQueueCreationLifecycle: false,
  });
  return serviceOf(server);
}

/** `dynalite`: DynamoDB with in-memory storage, in this process (a development dependency). */
export async function startDynalite(): Promise<LocalService> {
  const dynalite = createRequire(import.meta.url)('dynalite') as (options: {
    createTableMs: number;
  }) => Server;
  return listenLocally(dynalite({ createTableMs: 0 }));
}

/** A message as `ReceiveMessage` returns it (with `AttributeNames: ['All']`). */
export interface ReceivedMessage {
  MessageId?: string;
  ReceiptHandle?: string;
  Body?: string;
  MD5OfBody?: string;
  Attributes?: Record<string, string>;
  MessageAttributes?: Record<string, { DataType?: string; StringValue?: string }>;
}

/**
 * The Lambda SQS event for `messages` read from the queue `queueArn`, in the shape the SQS event
 * source mapping delivers (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html): system
 * attributes under `attributes` (with `AWSTraceHeader`), message attributes with lower-case keys.
 */
export function sqsEventFromMessages(messages: readonly ReceivedMessage[], queueArn: string) {
  return {
    Records: messages.map((message) => ({
      messageId: message.MessageId,
      receiptHandle: message.ReceiptHandle,
      body: message.Body,
      attributes: { ...message.Attributes },
      messageAttributes: Object.fromEntries(
        Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
          name,
          {
            stringValue: value.StringValue,
            stringListValues: [],
            binaryListValues: [],
            dataType: value.DataType,
          },
        ]),
      ),
      md5OfBody: message.MD5OfBody,
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: queueArn.split(':')[3],
    })),
  };
}
