// The demo's API function (API Gateway HTTP API, route GET /orders/{id}). Plain code with no
// tracing in it but one manual span: the layer traces the invocation, the Postgres query, the call
// to the inventory service and the SQS send by itself.
const { trace } = require('@opentelemetry/api');
const { Pool } = require('pg');
const { SQSClient, SendMessageCommand } = require('@aws-sdk/client-sqs');

// Created at module load, as most functions do: reused across invocations.
const pool = process.env.PGHOST ? new Pool({ max: 1 }) : undefined;
const sqs = new SQSClient({});
const tracer = trace.getTracer('orders-api');

exports.handler = async (event) => {
  const id = Number(event.pathParameters?.id);
  const order = await findOrder(id);
  if (order === undefined) return json(404, { message: `no order ${id}` });

  // An outbound HTTP call (fetch): a failing inventory service fails the request.
  const response = await fetch(`${process.env.INVENTORY_URL}/stock/${encodeURIComponent(order.item)}`);
  if (!response.ok) throw new Error(`inventory service answered ${response.status} for ${order.item}`);
  const stock = await response.json();

  // A manual span: plain OpenTelemetry API, a child of the invocation.
  const total = tracer.startActiveSpan('price-order', (span) => {
    span.setAttribute('order.item', order.item);
    const price = order.quantity * 12.5;
    span.end();
    return price;
  });

  if (process.env.ORDERS_QUEUE_URL) {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: process.env.ORDERS_QUEUE_URL,
        MessageBody: JSON.stringify({ id: order.id, item: order.item, total }),
      }),
    );
  }
  return json(200, { ...order, total, inStock: stock.available });
};

async function findOrder(id) {
  if (pool === undefined) return { id, item: 'espresso-beans', quantity: 2 }; // no Postgres: a fixed order
  const { rows } = await pool.query('SELECT id, item, quantity FROM demo_orders WHERE id = $1', [id]);
  return rows[0];
}

function json(statusCode, body) {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
