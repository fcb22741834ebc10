import { SpanKind, type SpanStatus, SpanStatusCode } from '@opentelemetry/api';
import type { TimedEvent } from '@opentelemetry/sdk-trace-base';
import { type AttributeReader, asString } from './attribute-reader.js';
import { newExceptionId } from './ids.js';
import type { XRayCause, XRayException, XRayStackFrame } from './segment-types.js';

/** The span event name OpenTelemetry's `recordException` uses. */
const EXCEPTION_EVENT = 'exception';

/**
 * Frames kept per exception. V8 records 10 by default (`Error.stackTraceLimit`); a raised limit
 * could fill the 64 KB datagram with frames, so the rest is counted in `truncated` instead.
 */
export const MAX_STACK_FRAMES = 64;

/** What `makeCause` needs to know about the span. */
export interface CauseSource {
  kind: SpanKind;
  status: SpanStatus;
  events: readonly TimedEvent[];
  attributes: AttributeReader;
  /** The resource's `telemetry.sdk.language`: stacks are parsed as V8 stacks for JS only. */
  sdkLanguage: string | undefined;
}

/**
 * Builds `cause` from the span's `exception` events: one entry in `cause.exceptions` per event,
 * with `type` ← `exception.type`, `message` ← `exception.message`, `stack` ← the parsed V8
 * `exception.stacktrace`, and `remote` for client and producer spans (the error came from the
 * other side), as the collector does.
 *
 * With no exception event but an ERROR status, the collector's OpenCensus-era fallback: one
 * exception holding the status message (or `http.status_text`), when there is one.
 */
export function makeCause(source: CauseSource): XRayCause | undefined {
  const remote = source.kind === SpanKind.CLIENT || source.kind === SpanKind.PRODUCER;
  const parseStacks = isJavaScript(source.sdkLanguage);

  const exceptions: XRayException[] = [];
  for (const event of source.events) {
    if (event.name !== EXCEPTION_EVENT) continue;
    const attributes = event.attributes ?? {};
    const exception: XRayException = { id: newExceptionId(), remote };
    const type = asString(attributes['exception.type']);
    if (type !== undefined) exception.type = type;
    const message = asString(attributes['exception.message']);
    if (message !== undefined) exception.message = message;
    const stacktrace = asString(attributes['exception.stacktrace']);
    if (parseStacks && stacktrace !== undefined) {
      const { frames, truncated } = parseV8StackTrace(stacktrace);
      if (frames.length > 0) exception.stack = frames;
      if (truncated > 0) exception.truncated = truncated;
    }
    exceptions.push(exception);
  }
  if (exceptions.length > 0) return { exceptions };

  if (source.status.code !== SpanStatusCode.ERROR) return undefined;
  const message = asString(source.status.message) ?? source.attributes.string('http.status_text');
  source.attributes.consume('http.status_text');
  return message === undefined ? undefined : { exceptions: [{ id: newExceptionId(), message }] };
}

/** The exception types of the span's `exception` events, for throttling detection. */
export function exceptionTypes(events: readonly TimedEvent[]): string[] {
  return events
    .filter((event) => event.name === EXCEPTION_EVENT)
    .map((event) => asString(event.attributes?.['exception.type']))
    .filter((type): type is string => type !== undefined);
}

/** JS SDKs report `nodejs` (or `webjs`); older ones `javascript`. Unknown: assume ours. */
function isJavaScript(language: string | undefined): boolean {
  return language === undefined || language === 'nodejs' || language === 'javascript' || language === 'webjs';
}

const FRAME = /^\s*at\s+(.*)$/;
const LOCATION_WITH_COLUMN = /^(.*):(\d+):(\d+)$/;
const LOCATION_WITH_LINE = /^(.*):(\d+)$/;

/**
 * Parses a V8 stack trace (`Error.stack`) into X-Ray stack frames.
 *
 * The first line (`Type: message`, maybe several lines long) is skipped; each `    at ...` line
 * gives `label` (the function, `""` for a bare location), `path` (`file://` removed, so ESM and
 * CommonJS frames read alike) and `line`:
 * `at handler (/var/task/index.js:10:5)` → `{label: "handler", path: "/var/task/index.js", line: 10}`,
 * `at /var/task/index.js:3:1` → `{label: "", path: "/var/task/index.js", line: 3}`,
 * `at new Promise (<anonymous>)` → `{label: "new Promise", path: "<anonymous>"}`.
 * Frames past `MAX_STACK_FRAMES` are counted in `truncated`.
 */
export function parseV8StackTrace(stacktrace: string): { frames: XRayStackFrame[]; truncated: number } {
  const frames: XRayStackFrame[] = [];
  let truncated = 0;
  for (const line of stacktrace.split(/\r?\n/)) {
    const match = FRAME.exec(line);
    if (match === null) continue;
    const frame = parseFrame(match[1].trim());
    if (frame === undefined) continue;
    if (frames.length < MAX_STACK_FRAMES) frames.push(frame);
    else truncated += 1;
  }
  return { frames, truncated };
}

function parseFrame(text: string): XRayStackFrame | undefined {
  let label = '';
  let location = text;
  const open = text.indexOf(' (');
  if (open > 0 && text.endsWith(')')) {
    label = text.slice(0, open);
    location = text.slice(open + 2, -1);
  }

  const frame: XRayStackFrame = { label };
  const withLine = LOCATION_WITH_COLUMN.exec(location) ?? LOCATION_WITH_LINE.exec(location);
  if (withLine !== null) {
    frame.path = withLine[1].replace(/^file:\/\//, '');
    frame.line = Number(withLine[2]);
  } else {
    frame.path = location.replace(/^file:\/\//, '');
  }
  return frame.path === '' && label === '' ? undefined : frame;
}
