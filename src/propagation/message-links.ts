import type { Link } from '@opentelemetry/api';
import {
  DEFAULT_CARRIER_LIMIT,
  type InvocationSource,
  snsMessageCarriers,
  sqsMessageCarriers,
} from '../lambda/triggers/index.js';
import { linksFromCarriers } from './message-context.js';

const NONE: readonly Link[] = Object.freeze([]);
const ALL = Number.POSITIVE_INFINITY;

/**
 * The links of an SQS- or SNS-triggered invocation span: one per distinct producer span among
 * the batch's messages, from `record.attributes.AWSTraceHeader`, else from the trace message
 * attributes. A batch mixes messages of many traces, so none of them can be the invocation's
 * parent; links keep each one reachable (the semantic conventions' batch-receive pattern).
 * Capped at 128 distinct producers, the SDK's default link limit: links past it would be dropped
 * anyway. Never throws.
 */
export function messageLinks(event: unknown, source: InvocationSource): readonly Link[] {
  try {
    // Every record is read: the cap counts distinct producers, and one producer's header repeats
    // on each message of its batch sends, so the first 128 records may hold a single producer.
    if (source === 'sqs') return linksFromCarriers(sqsMessageCarriers(event, ALL), DEFAULT_CARRIER_LIMIT);
    if (source === 'sns') return linksFromCarriers(snsMessageCarriers(event, ALL), DEFAULT_CARRIER_LIMIT);
  } catch {
    // A hostile event must not fail the invocation; it only loses its links.
  }
  return NONE;
}
