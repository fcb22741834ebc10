// The demo's second function, an ES module: an SQS consumer that records each order as a
// shipment in DynamoDB. `forEachSqsRecord` (the layer's public helper) gives each record a span
// that continues the trace of the function that sent the message.
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { forEachSqsRecord } from 'otel-lambda-xray';

const dynamodb = new DynamoDBClient({});

export const handler = async (event) =>
  forEachSqsRecord(event, async (record) => {
    const order = JSON.parse(record.body);
    await dynamodb.send(
      new PutItemCommand({
        TableName: process.env.SHIPMENTS_TABLE,
        Item: {
          orderId: { S: String(order.id) },
          item: { S: order.item },
          total: { N: String(order.total) },
        },
      }),
    );
  });
