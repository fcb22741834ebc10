/**
 * Every environment variable the layer reads, in one place. The README's configuration table is
 * checked against {@link ENV_VARS} by a test, so the two cannot drift.
 */

/** One documented environment variable. */
export interface EnvVarDoc {
  readonly name: string;
  /** The default as a user would write it, or a description of how it is derived. */
  readonly default: string;
  readonly description: string;
}

/** Prefix shared by every variable that is specific to this project. */
export const PROJECT_PREFIX = 'OTEL_LAMBDA_XRAY_';

export const OTEL_SDK_DISABLED = 'OTEL_SDK_DISABLED';
export const OTEL_SERVICE_NAME = 'OTEL_SERVICE_NAME';
export const OTEL_RESOURCE_ATTRIBUTES = 'OTEL_RESOURCE_ATTRIBUTES';
export const OTEL_LOG_LEVEL = 'OTEL_LOG_LEVEL';
export const OTEL_PROPAGATORS = 'OTEL_PROPAGATORS';
export const OTEL_TRACES_SAMPLER = 'OTEL_TRACES_SAMPLER';
export const OTEL_TRACES_SAMPLER_ARG = 'OTEL_TRACES_SAMPLER_ARG';
export const OTEL_TRACES_EXPORTER = 'OTEL_TRACES_EXPORTER';
export const OTEL_EXPORTER_OTLP_ENDPOINT = 'OTEL_EXPORTER_OTLP_ENDPOINT';
export const OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT';
export const OTEL_EXPORTER_OTLP_HEADERS = 'OTEL_EXPORTER_OTLP_HEADERS';
export const OTEL_EXPORTER_OTLP_TRACES_HEADERS = 'OTEL_EXPORTER_OTLP_TRACES_HEADERS';
export const OTEL_EXPORTER_OTLP_TIMEOUT = 'OTEL_EXPORTER_OTLP_TIMEOUT';
export const OTEL_EXPORTER_OTLP_PROTOCOL = 'OTEL_EXPORTER_OTLP_PROTOCOL';
export const OTEL_EXPORTER_OTLP_TRACES_PROTOCOL = 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL';
export const OTEL_EXPORTER_OTLP_TRACES_TIMEOUT = 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT';
export const OTEL_NODE_ENABLED_INSTRUMENTATIONS = 'OTEL_NODE_ENABLED_INSTRUMENTATIONS';
export const OTEL_NODE_DISABLED_INSTRUMENTATIONS = 'OTEL_NODE_DISABLED_INSTRUMENTATIONS';
export const FLUSH_TIMEOUT_MS = `${PROJECT_PREFIX}FLUSH_TIMEOUT_MS`;
export const FLUSH_UNTIL = `${PROJECT_PREFIX}FLUSH_UNTIL`;
export const TIMEOUT_MARGIN_MS = `${PROJECT_PREFIX}TIMEOUT_MARGIN_MS`;
export const MAX_QUEUED_SPANS = `${PROJECT_PREFIX}MAX_QUEUED_SPANS`;
export const DB_STATEMENT = `${PROJECT_PREFIX}DB_STATEMENT`;
export const ORIGINAL_HANDLER = `${PROJECT_PREFIX}ORIGINAL_HANDLER`;
export const INCOMING_CONTEXT = `${PROJECT_PREFIX}INCOMING_CONTEXT`;
export const AWS_XRAY_DAEMON_ADDRESS = 'AWS_XRAY_DAEMON_ADDRESS';
export const XRAY_INDEXED_ATTRIBUTES = `${PROJECT_PREFIX}INDEXED_ATTRIBUTES`;

/** Variables Lambda itself sets; read, never documented as user settings. */
export const LAMBDA = {
  functionName: 'AWS_LAMBDA_FUNCTION_NAME',
  functionVersion: 'AWS_LAMBDA_FUNCTION_VERSION',
  memorySize: 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  logGroup: 'AWS_LAMBDA_LOG_GROUP_NAME',
  logStream: 'AWS_LAMBDA_LOG_STREAM_NAME',
  region: 'AWS_REGION',
  handler: '_HANDLER',
  traceHeader: '_X_AMZN_TRACE_ID',
  taskRoot: 'LAMBDA_TASK_ROOT',
  runtimeApi: 'AWS_LAMBDA_RUNTIME_API',
} as const;

/** The user-facing variables, in the order the README lists them. */
export const ENV_VARS: readonly EnvVarDoc[] = [
  {
    name: 'AWS_LAMBDA_EXEC_WRAPPER',
    default: '(unset)',
    description: 'Set to `/opt/otel-handler` to turn tracing on. Nothing else is required.',
  },
  {
    name: OTEL_SDK_DISABLED,
    default: 'false',
    description:
      '`true` turns the layer off: `otel-handler` leaves `_HANDLER` alone and the runtime loads the handler itself.',
  },
  {
    name: OTEL_SERVICE_NAME,
    default: 'the function name',
    description: 'The `service.name` resource attribute: the node name X-Ray shows for the function.',
  },
  {
    name: OTEL_RESOURCE_ATTRIBUTES,
    default: '(none)',
    description: 'Extra resource attributes, `key=value,key2=value2` (values percent-decoded).',
  },
  {
    name: OTEL_LOG_LEVEL,
    default: 'info',
    description: 'Diagnostics level: `none`, `error`, `warn`, `info`, `debug`, `verbose`, `all`.',
  },
  {
    name: OTEL_PROPAGATORS,
    default: 'xray,tracecontext,baggage',
    description:
      'Propagators for outgoing calls and incoming headers: any of `xray`, `xray-lambda` (same as `xray`), `tracecontext`, `baggage`, `none`.',
  },
  {
    name: OTEL_TRACES_SAMPLER,
    default: 'parentbased_always_on',
    description:
      "`always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, `parentbased_always_off`, `parentbased_traceidratio`. Lambda's `Sampled` flag decides for the invocation whenever Lambda passes one.",
  },
  {
    name: OTEL_TRACES_SAMPLER_ARG,
    default: '1',
    description: 'The ratio, 0 to 1, for the `traceidratio` samplers.',
  },
  {
    name: OTEL_TRACES_EXPORTER,
    default: '`otlp` with a collector, else `xray`',
    description:
      '`otlp` (OTLP to the collector extension, over HTTP or gRPC: see `OTEL_EXPORTER_OTLP_PROTOCOL`), `xray` (X-Ray segment documents over UDP straight to the X-Ray daemon Lambda runs when active tracing is on: no collector needed) or `none` (spans are made but not exported). Unset, it is `otlp` when the function is set up for a collector (the collector extension at `/opt/extensions/collector`, as the ADOT and OpenTelemetry collector layers install it, or `OPENTELEMETRY_COLLECTOR_CONFIG_URI` or any `OTEL_EXPORTER_OTLP_*` variable set), else `xray`. When other extensions are installed but none named `collector`, the choice is logged at start-up.',
  },
  {
    name: AWS_XRAY_DAEMON_ADDRESS,
    default: '127.0.0.1:2000',
    description:
      'Where the `xray` exporter sends its UDP datagrams: `host:port` or `tcp:host:port udp:host:port`. Lambda sets it when active tracing is on; leave it alone there.',
  },
  {
    name: XRAY_INDEXED_ATTRIBUTES,
    default: 'the list in `collector-config.yaml`',
    description:
      'For the `xray` exporter: comma-separated span attributes written as X-Ray annotations (searchable); the others become metadata. Empty indexes none. The default, `faas.trigger,faas.coldstart,http.route,http.request.method,messaging.destination.name,rpc.service,db.system,error.type`, matches the collector path.',
  },
  {
    name: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
    default: 'http/protobuf',
    description:
      '`http/protobuf` (OTLP/HTTP, port 4318) or `grpc` (OTLP/gRPC, port 4317); falls back to `OTEL_EXPORTER_OTLP_PROTOCOL`. HTTP is the OpenTelemetry default; to an `http:` endpoint both cost about the same (the layer writes either on a TCP socket itself), to an `https:` one gRPC loads `node:http2` (10–13 ms more cold start, measured here on Node 24). Left unset with an endpoint on port 4317, `grpc` is used (with a warning).',
  },
  {
    name: OTEL_EXPORTER_OTLP_PROTOCOL,
    default: 'http/protobuf',
    description: 'The OTLP protocol for all signals.',
  },
  {
    name: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    default: 'http://localhost:4318/v1/traces',
    description:
      'Where OTLP spans go, used as given (for `grpc`: `http://localhost:4317`); falls back to `OTEL_EXPORTER_OTLP_ENDPOINT`.',
  },
  {
    name: OTEL_EXPORTER_OTLP_ENDPOINT,
    default: 'http://localhost:4318',
    description:
      "The OTLP endpoint for all signals: OTLP/HTTP appends `/v1/traces` to its path (a query string stays at the end); for `grpc` it is the collector's `http://host:4317`.",
  },
  {
    name: OTEL_EXPORTER_OTLP_TRACES_HEADERS,
    default: '(none)',
    description:
      'HTTP headers (or gRPC metadata) sent with every export, `key=value,...` (percent-encoded); falls back to `OTEL_EXPORTER_OTLP_HEADERS`. A header the protocol cannot send (`Content-Type`, `grpc-*`, a value that is not printable ASCII) is dropped at start-up with a warning naming it. Never logged.',
  },
  {
    name: OTEL_EXPORTER_OTLP_HEADERS,
    default: '(none)',
    description: 'Export headers for all signals. Never logged.',
  },
  {
    name: OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
    default: '2000',
    description:
      'Milliseconds one export request may take before it is abandoned (the invocation never waits longer than the flush timeout); falls back to `OTEL_EXPORTER_OTLP_TIMEOUT`. At most 2147483647 (what a timer can wait; more warns and uses that).',
  },
  {
    name: OTEL_EXPORTER_OTLP_TIMEOUT,
    default: '2000',
    description: 'The export request timeout for all signals, in milliseconds.',
  },
  {
    name: OTEL_NODE_ENABLED_INSTRUMENTATIONS,
    default: '(all)',
    description: 'Comma-separated instrumentations to turn on; the others stay off.',
  },
  {
    name: OTEL_NODE_DISABLED_INSTRUMENTATIONS,
    default: '(none)',
    description: 'Comma-separated instrumentations to turn off; applied after the enabled list.',
  },
  {
    name: FLUSH_TIMEOUT_MS,
    default: '500',
    description:
      "The longest the layer holds back an invocation's response while it exports that invocation's spans. Also bounded by the time the invocation has left.",
  },
  {
    name: FLUSH_UNTIL,
    default: 'auto',
    description:
      "What the response waits for over OTLP (HTTP or gRPC): `answered` (the collector's answer), `sent` (the spans written on a connection known to be alive: new, or answered within 10 s; the answer is read afterwards and a failure logged then) or `auto`: `sent` when the endpoint is on this host (`localhost`, `127.x.x.x`, `::1`: the collector extension, which keeps running until Lambda reports the invocation done), else `answered`. OTLP/gRPC to an `https:` endpoint always waits for the answer.",
  },
  {
    name: TIMEOUT_MARGIN_MS,
    default: '500',
    description:
      "How long before the function's deadline the invocation span is ended as timed out and flushed, so it is not lost when Lambda stops the function.",
  },
  {
    name: MAX_QUEUED_SPANS,
    default: '2048',
    description:
      'Spans kept in memory awaiting export; past that new spans are dropped (counted at debug level).',
  },
  {
    name: DB_STATEMENT,
    default: 'sanitized',
    description:
      'What `pg` and Sequelize spans record of each SQL statement: `sanitized` (string and numeric literals replaced by `?`, comments dropped), `raw` (the text as written, literals included; error messages kept whole) or `off` (no statement). Bound parameter values are never recorded.',
  },
  {
    name: INCOMING_CONTEXT,
    default: 'incoming-if-unsampled',
    description:
      "Which trace an HTTP-triggered invocation joins. `lambda`: always Lambda's own trace header. `incoming-if-unsampled`: Lambda's header when Lambda sampled the request, else a `traceparent` or `X-Amzn-Trace-Id` header of the incoming request (the caller's trace). `incoming`: the request's header whenever it has one. The context not chosen is kept as a span link.",
  },
  {
    name: ORIGINAL_HANDLER,
    default: "the function's `_HANDLER`",
    description:
      'Set by `otel-handler`: the handler the layer loads and wraps. Set it yourself only if another wrapper already replaced `_HANDLER`.',
  },
];
