/**
 * The public API of `otel-lambda-xray`: helpers for what no-code tracing cannot do by itself.
 * Everything else (the invocation span, library spans, exporting) needs no code: attach the layer
 * and set `AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-handler`. Manual spans use `@opentelemetry/api`.
 *
 * @packageDocumentation
 */
export type {
  ForEachSqsMessageOptions,
  ForEachSqsRecordOptions,
  SqsBatchResponse,
  SqsEvent,
  SqsMessage,
  SqsRecord,
} from './propagation/sqs-records.js';
export { forEachSqsMessage, forEachSqsRecord } from './propagation/sqs-records.js';
