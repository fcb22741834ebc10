import { type Attributes, SpanKind } from '@opentelemetry/api';
import { parseArn } from '../../aws/arn.js';
import type { InvocationDescription } from './types.js';
import { afterLast, capName, type Obj, obj, str } from './util.js';

/** The rule name of an EventBridge rule ARN (`rule/NAME`, or `rule/BUS/NAME` on a custom bus). */
function ruleNameOf(arn: unknown): string | undefined {
  const parsed = parseArn(arn);
  if (parsed === undefined || !parsed.resource.startsWith('rule/')) return undefined;
  return str(afterLast(parsed.resource, '/'));
}

/**
 * An EventBridge event: `source` and `detail-type` are the event's, already checked to be strings.
 *
 * - A scheduled rule (`source: aws.events`, `detail-type: Scheduled Event`) is a `timer`, named
 *   after the rule, the one stable thing that tells two schedules apart; `faas.time` is the
 *   scheduled time. The cron expression (`faas.cron`) is not in the event.
 * - Any other event is `pubsub`, named `<source> <detail-type>`: rules route a few event types to a
 *   function, so the pair stays low-cardinality. EventBridge is not a messaging system the
 *   semantic conventions list, and its envelope maps onto CloudEvents (id, source, type), so the
 *   `cloudevents.*` attributes carry it. `detail` is never read.
 */
export function describeEventBridge(event: Obj, source: string, detailType: string): InvocationDescription {
  const time = str(event.time);
  if (source === 'aws.events' && detailType === 'Scheduled Event') {
    const attributes: Attributes = { 'faas.trigger': 'timer' };
    if (time !== undefined) attributes['faas.time'] = time;
    const resources = event.resources;
    const rule = Array.isArray(resources) ? ruleNameOf(resources[0]) : undefined;
    return {
      trigger: 'timer',
      source: 'eventbridge-schedule',
      spanName: rule,
      kind: SpanKind.SERVER,
      attributes,
    };
  }
  const attributes: Attributes = {
    'faas.trigger': 'pubsub',
    'cloudevents.event_source': source,
    'cloudevents.event_type': detailType,
  };
  const id = str(event.id);
  if (id !== undefined) attributes['cloudevents.event_id'] = id;
  const region = str(event.region);
  if (region !== undefined) attributes['cloud.region'] = region;
  return {
    trigger: 'pubsub',
    source: 'eventbridge',
    spanName: eventName(capName(source), capName(detailType)),
    kind: SpanKind.SERVER,
    attributes,
  };
}

/** `<source> <detail-type>`, either part left out when empty, undefined when both are. */
function eventName(source: string, detailType: string): string | undefined {
  if (source === '') return str(detailType);
  return detailType === '' ? source : `${source} ${detailType}`;
}

/**
 * A CloudWatch Logs subscription (`{ awslogs: { data } }`). The log group and stream are inside
 * `data`, gzipped and base64-encoded: inflating up to a megabyte on every invocation to name a span
 * is not worth it, so the span keeps the function's name and carries the trigger only.
 */
export function describeCloudWatchLogs(awslogs: unknown): InvocationDescription | undefined {
  if (typeof obj(awslogs)?.data !== 'string') return undefined;
  return {
    trigger: 'datasource',
    source: 'cloudwatch-logs',
    spanName: undefined,
    kind: SpanKind.SERVER,
    attributes: { 'faas.trigger': 'datasource' },
  };
}
