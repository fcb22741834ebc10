/** The events the benchmark sends. */
import { randomUUID } from 'node:crypto';

/**
 * An API Gateway HTTP API (payload 2.0) request for `GET /orders/{id}`, as a browser without any
 * tracing of its own sends it: no `traceparent` or `X-Amzn-Trace-Id` from the caller, so every setup
 * is left to decide the parent from Lambda's trace header alone.
 */
export function httpApiEvent(id: string): Record<string, unknown> {
  const now = new Date();
  return {
    version: '2.0',
    routeKey: 'GET /orders/{id}',
    rawPath: `/orders/${id}`,
    rawQueryString: '',
    headers: {
      accept: 'application/json',
      'content-length': '0',
      host: 'r3pmxmplak.execute-api.us-east-1.amazonaws.com',
      'user-agent': 'Mozilla/5.0',
      'x-forwarded-for': '198.51.100.7',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'r3pmxmplak',
      domainName: 'r3pmxmplak.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'r3pmxmplak',
      http: {
        method: 'GET',
        path: `/orders/${id}`,
        protocol: 'HTTP/1.1',
        sourceIp: '198.51.100.7',
        userAgent: 'Mozilla/5.0',
      },
      requestId: randomUUID(),
      routeKey: 'GET /orders/{id}',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    pathParameters: { id },
    isBase64Encoded: false,
  };
}
