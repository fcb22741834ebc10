import type { Link } from '@opentelemetry/api';
import {
  DEFAULT_CARRIER_LIMIT,
  type InvocationSource,
  snsMessageCarriers,
  sqsMessageCarriers,
} from '../lambda/triggers/index.js';
import { linksFromCarriers } from './message-context.js';

const NONE: readonly Link[] = Object.freeze([]);

/**
 * The links of an SQS- or SNS-triggered invocation span: one per distinct producer span among
 * the batch's messages, from `record.attributes.AWSTraceHeader`, else from the trace message
 * attributes. A batch mixes messages of many traces, so none of them can be the invocation's
 * parent; links keep each one reachable (the semantic conventions' batch-receive pattern).
 * Capped at 128, the SDK's default link limit: links past it would be dropped anyway. Never throws.
 */
export function messageLinks(event: unknown, source: InvocationSource): readonly Link[] {
  try {
    if (source === 'sqs') return linksFromCarriers(sqsMessageCarriers(event), DEFAULT_CARRIER_LIMIT);
    if (source === 'sns') return linksFromCarriers(snsMessageCarriers(event), DEFAULT_CARRIER_LIMIT);
  } catch {
    // A hostile event must not fail the invocation; it only loses its links.
  }
  return NONE;
}
