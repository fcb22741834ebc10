import { DiagLogLevel } from '@opentelemetry/api';
import { usableHeaders } from '../export/otlp/exporter-config.js';
import * as V from './env-vars.js';
import { COLLECTOR_EXTENSION, type InstalledExtensions, LAMBDA_EXTENSIONS_DIR } from './lambda-extensions.js';

/** The propagators a user can name in `OTEL_PROPAGATORS`. */
export type PropagatorName = 'xray' | 'tracecontext' | 'baggage';
export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';
export type ExporterName = 'otlp' | 'xray' | 'none';
/** The OTLP transports (`OTEL_EXPORTER_OTLP_PROTOCOL`): protobuf over HTTP (the default) or gRPC. */
export type OtlpProtocol = 'http/protobuf' | 'grpc';
/**
 * How much of an SQL statement database spans record (`OTEL_LAMBDA_XRAY_DB_STATEMENT`): `sanitized`
 * replaces literals by `?`, `raw` keeps the text as written, `off` records none.
 */
export type DbStatementMode = 'sanitized' | 'raw' | 'off';
/**
 * Which trace an HTTP-triggered invocation joins, Lambda's or the caller's (`OTEL_LAMBDA_XRAY_INCOMING_CONTEXT`);
 * see `src/lambda/incoming-context.ts`.
 */
export type IncomingContextPolicy = 'lambda' | 'incoming-if-unsampled' | 'incoming';
/** What an invocation's flush waits for over OTLP (`OTEL_LAMBDA_XRAY_FLUSH_UNTIL`). */
export type FlushUntil = 'auto' | 'sent' | 'answered';

/**
 * Attributes the X-Ray exporters index as annotations by default: the `indexed_attributes` of the
 * shipped `collector-config.yaml` (a test holds the two together), so a trace looks the same in X-Ray
 * whether it went through the collector or straight to the daemon.
 */
export const DEFAULT_INDEXED_ATTRIBUTES: readonly string[] = [
  'faas.trigger',
  'faas.coldstart',
  'http.route',
  'http.request.method',
  'messaging.destination.name',
  'rpc.service',
  'db.system',
  'error.type',
];

/** Library instrumentations this distribution can turn on, by the name the enable/disable lists use. */
export const KNOWN_INSTRUMENTATIONS: readonly string[] = [
  'http',
  'undici',
  'http2',
  'pg',
  'sequelize',
  'aws-sdk',
];

/** The resolved configuration: every field set, every value valid. */
export interface Config {
  readonly disabled: boolean;
  readonly serviceName: string;
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly logLevel: DiagLogLevel;
  readonly propagators: readonly PropagatorName[];
  readonly sampler: SamplerName;
  readonly samplerRatio: number;
  readonly exporter: ExporterName;
  readonly otlpProtocol: OtlpProtocol;
  /** gRPC: `scheme://host:port` of the collector. HTTP: the full URL to POST to (`.../v1/traces`). */
  readonly otlpEndpoint: string;
  /** gRPC metadata or HTTP headers for exports. Often a credential: never log it. */
  readonly otlpHeaders: Readonly<Record<string, string>>;
  readonly otlpTimeoutMs: number;
  /** `AWS_XRAY_DAEMON_ADDRESS` as given (parsed by the UDP exporter); undefined: 127.0.0.1:2000. */
  readonly xrayDaemonAddress: string | undefined;
  /** Attribute keys the `xray` exporter writes as annotations. */
  readonly xrayIndexedAttributes: readonly string[];
  readonly instrumentations: ReadonlySet<string>;
  readonly flushTimeoutMs: number;
  readonly flushUntil: FlushUntil;
  readonly timeoutMarginMs: number;
  readonly maxQueuedSpans: number;
  readonly dbStatement: DbStatementMode;
  readonly originalHandler: string | undefined;
  readonly incomingContext: IncomingContextPolicy;
  /** `host:port` of the Lambda Runtime API (set by Lambda): the runtime's own calls there are never traced. */
  readonly runtimeApi: string | undefined;
  readonly lambda: LambdaEnvironment;
}

/** What Lambda tells the function about itself through its environment. */
export interface LambdaEnvironment {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly memoryMb: number | undefined;
  readonly logGroup: string | undefined;
  readonly logStream: string | undefined;
  readonly region: string | undefined;
}

/**
 * The configuration, the warnings met while reading it (one per bad variable), and notices: what
 * a reader of the function's log should know of a choice the layer made for it (logged at info).
 */
export interface LoadedConfig {
  readonly config: Readonly<Config>;
  readonly warnings: readonly string[];
  readonly notices: readonly string[];
  /** What chose the exporter, for the debug log: the variable set, or why the default is what it is. */
  readonly exporterChosenBy: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Where the collector extension listens, per protocol (the shipped `collector-config.yaml`). */
const DEFAULT_ENDPOINTS: Readonly<Record<OtlpProtocol, string>> = {
  'http/protobuf': 'http://localhost:4318',
  grpc: 'http://localhost:4317',
};
/** The OTLP/gRPC port: an endpoint on it, with no protocol named, is taken to mean gRPC. */
const OTLP_GRPC_PORT = '4317';
/** The path OTLP/HTTP appends to `OTEL_EXPORTER_OTLP_ENDPOINT` for traces (OTLP exporter spec). */
const OTLP_HTTP_TRACES_PATH = 'v1/traces';
/** The longest delay a Node timer keeps (2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;
const LOG_LEVELS: Readonly<Record<string, DiagLogLevel>> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};
const EXPORTERS: readonly ExporterName[] = ['otlp', 'xray', 'none'];
/**
 * The collector layers' own configuration variables: set, they say the function exports to a
 * collector (as any `OTEL_EXPORTER_OTLP_*` variable does).
 */
const COLLECTOR_CONFIG_VARIABLES: readonly string[] = [
  'OPENTELEMETRY_COLLECTOR_CONFIG_URI',
  'OPENTELEMETRY_COLLECTOR_CONFIG_FILE',
];
const OTLP_VARIABLE_PREFIX = 'OTEL_EXPORTER_OTLP_';
const SAMPLERS: readonly SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

/**
 * Reads the configuration from the environment and the names of the Lambda extensions installed
 * (see `installedExtensions`). Pure: it returns warnings instead of logging them, and every bad
 * value falls back to a safe default, so a typo never stops the function.
 *
 * @example
 * const { config, warnings } = loadConfig({ OTEL_PROPAGATORS: 'xray,tracecontext' });
 */
export function loadConfig(
  env: Env = process.env,
  extensions: InstalledExtensions = { folder: LAMBDA_EXTENSIONS_DIR, names: [] },
): LoadedConfig {
  const warnings: string[] = [];
  const notices: string[] = [];
  const read = new Reader(env, warnings);
  const functionName = env[V.LAMBDA.functionName] ?? 'unknown-function';
  const byDefault = defaultExporter(env, extensions);
  const exporter = read.oneOf(V.OTEL_TRACES_EXPORTER, EXPORTERS, byDefault.exporter);
  const isNamed = read.isOneOf(V.OTEL_TRACES_EXPORTER, EXPORTERS);
  if (!isNamed) notices.push(...byDefault.notices);

  const otlp = read.otlpTarget();
  const config: Config = {
    disabled: read.boolean(V.OTEL_SDK_DISABLED, false),
    serviceName: nonEmpty(env[V.OTEL_SERVICE_NAME]) ?? functionName,
    resourceAttributes: read.keyValues(V.OTEL_RESOURCE_ATTRIBUTES, true),
    logLevel: read.choice(V.OTEL_LOG_LEVEL, LOG_LEVELS, 'info'),
    propagators: read.propagators(),
    sampler: read.oneOf(V.OTEL_TRACES_SAMPLER, SAMPLERS, 'parentbased_always_on'),
    samplerRatio: read.ratio(V.OTEL_TRACES_SAMPLER_ARG, 1),
    exporter,
    otlpProtocol: otlp.protocol,
    otlpEndpoint: otlp.endpoint,
    otlpHeaders: read.otlpHeaders(otlp.protocol),
    otlpTimeoutMs: read.millis(
      read.preferSignal(V.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, V.OTEL_EXPORTER_OTLP_TIMEOUT),
      2000,
    ),
    xrayDaemonAddress: nonEmpty(env[V.AWS_XRAY_DAEMON_ADDRESS]?.trim()),
    xrayIndexedAttributes: read.list(V.XRAY_INDEXED_ATTRIBUTES) ?? DEFAULT_INDEXED_ATTRIBUTES,
    instrumentations: read.instrumentations(),
    flushTimeoutMs: read.millis(V.FLUSH_TIMEOUT_MS, 500),
    flushUntil: read.oneOf(V.FLUSH_UNTIL, ['auto', 'sent', 'answered'] as const, 'auto'),
    timeoutMarginMs: read.millis(V.TIMEOUT_MARGIN_MS, 500),
    maxQueuedSpans: read.positiveInt(V.MAX_QUEUED_SPANS, 2048),
    dbStatement: read.oneOf(V.DB_STATEMENT, ['sanitized', 'raw', 'off'] as const, 'sanitized'),
    originalHandler: nonEmpty(env[V.ORIGINAL_HANDLER]),
    incomingContext: read.oneOf(
      V.INCOMING_CONTEXT,
      ['lambda', 'incoming-if-unsampled', 'incoming'] as const,
      'incoming-if-unsampled',
    ),
    runtimeApi: nonEmpty(env[V.LAMBDA.runtimeApi]),
    lambda: {
      functionName,
      functionVersion: env[V.LAMBDA.functionVersion] ?? '$LATEST',
      memoryMb: parseDecimal(env[V.LAMBDA.memorySize]),
      logGroup: nonEmpty(env[V.LAMBDA.logGroup]),
      logStream: nonEmpty(env[V.LAMBDA.logStream]),
      region: nonEmpty(env[V.LAMBDA.region]),
    },
  };
  return {
    config: Object.freeze(config),
    warnings,
    notices,
    exporterChosenBy: isNamed ? V.OTEL_TRACES_EXPORTER : byDefault.chosenBy,
  };
}

/**
 * The exporter when `OTEL_TRACES_EXPORTER` names none: OTLP when the function is set up for a
 * collector (its extension is installed, or a collector or OTLP exporter variable is set), else
 * the X-Ray daemon, which Lambda runs beside the function when active tracing is on. So a
 * function given only the layer and active tracing is traced, rather than sending OTLP to a
 * collector nobody runs; and it then pays no more per invocation than a datagram.
 */
function defaultExporter(
  env: Env,
  extensions: InstalledExtensions,
): { exporter: 'otlp' | 'xray'; chosenBy: string; notices: string[] } {
  const collector = `${extensions.folder}/${COLLECTOR_EXTENSION}`;
  if (extensions.names.includes(COLLECTOR_EXTENSION))
    return { exporter: 'otlp', chosenBy: `the collector extension (${collector})`, notices: [] };
  const variable = Object.keys(env)
    .filter((name) => name.startsWith(OTLP_VARIABLE_PREFIX) || COLLECTOR_CONFIG_VARIABLES.includes(name))
    .sort()
    .find((name) => nonEmpty(env[name]?.trim()) !== undefined);
  if (variable !== undefined) return { exporter: 'otlp', chosenBy: `${variable} is set`, notices: [] };
  const chosenBy = `no collector extension (${collector}) and no ${OTLP_VARIABLE_PREFIX}* variable`;
  if (extensions.names.length === 0) return { exporter: 'xray', chosenBy, notices: [] };
  // Another extension may be a collector under another name: say what was chosen, and how not to.
  return {
    exporter: 'xray',
    chosenBy,
    notices: [
      `no collector extension (${collector}; found ${extensions.names.join(', ')}) and no ${OTLP_VARIABLE_PREFIX}* variable: spans go to ${daemonTarget(env[V.AWS_XRAY_DAEMON_ADDRESS])}; set ${V.OTEL_TRACES_EXPORTER}=otlp to send them to a collector`,
    ],
  };
}

/**
 * The daemon as a log line names it: where the datagrams go (the `udp:` part of a
 * `tcp:… udp:…` address), or the default.
 */
export function daemonTarget(address: string | undefined): string {
  const given = nonEmpty(address?.trim());
  const udp = given === undefined ? undefined : (/(?:^|\s)udp:(\S+)/.exec(given)?.[1] ?? given);
  return `the X-Ray daemon at ${udp ?? '127.0.0.1:2000'}`;
}

/** Reads one kind of value each; a bad value adds one warning naming the variable and the fallback. */
class Reader {
  constructor(
    private readonly env: Env,
    private readonly warnings: string[],
  ) {}

  private raw(name: string): string | undefined {
    return nonEmpty(this.env[name]?.trim());
  }

  private invalid(name: string, shown: string, fallback: string): void {
    this.warnings.push(`${name} value "${shown}" invalid, using ${fallback}`);
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (value === 'true') return true;
    if (value === 'false') return false;
    this.invalid(name, value, String(fallback));
    return fallback;
  }

  positiveInt(name: string, fallback: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = parseDecimal(value);
    if (parsed !== undefined && parsed > 0) return parsed;
    this.invalid(name, value, String(fallback));
    return fallback;
  }

  /**
   * A positive number of milliseconds for a timer: past 2,147,483,647 (about 24.8 days) Node fires
   * a timer after 1 ms instead, so a larger value warns and is held at that limit.
   */
  millis(name: string, fallback: number): number {
    const value = this.positiveInt(name, fallback);
    if (value <= MAX_TIMER_MS) return value;
    this.warnings.push(`${name} value "${value}" is more than a timer can wait, using ${MAX_TIMER_MS}`);
    return MAX_TIMER_MS;
  }

  /** The OTLP headers, traces-specific variable first, less those the protocol cannot send. */
  otlpHeaders(protocol: OtlpProtocol): Record<string, string> {
    const name = this.preferSignal(V.OTEL_EXPORTER_OTLP_TRACES_HEADERS, V.OTEL_EXPORTER_OTLP_HEADERS);
    return usableHeaders(this.keyValues(name, false), protocol, (problem) =>
      this.warnings.push(`${name}: ${problem}`),
    );
  }

  ratio(name: string, fallback: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = /^\d*\.?\d+$/.test(value) ? Number(value) : Number.NaN;
    if (parsed >= 0 && parsed <= 1) return parsed;
    this.invalid(name, value, String(fallback));
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.invalid(name, value, fallback);
    return fallback;
  }

  /** Whether the variable names one of `allowed` (in any case), as `oneOf` reads it. */
  isOneOf(name: string, allowed: readonly string[]): boolean {
    const value = this.raw(name)?.toLowerCase();
    return value !== undefined && allowed.includes(value);
  }

  choice<T>(name: string, table: Readonly<Record<string, T>>, fallbackKey: string): T {
    const key = this.oneOf(name, Object.keys(table), fallbackKey);
    return table[key] as T;
  }

  /**
   * The OTLP protocol and the URL to send to. The traces-specific variables win over the general
   * ones. For OTLP/HTTP, `v1/traces` is appended to `OTEL_EXPORTER_OTLP_ENDPOINT` but not to
   * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, which is used as given (OTLP exporter specification,
   * "Endpoint URLs for OTLP/HTTP").
   */
  otlpTarget(): { protocol: OtlpProtocol; endpoint: string } {
    const protocolName = this.preferSignal(
      V.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
      V.OTEL_EXPORTER_OTLP_PROTOCOL,
    );
    const endpointName = this.preferSignal(
      V.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
      V.OTEL_EXPORTER_OTLP_ENDPOINT,
    );
    const value = this.raw(endpointName);
    const url = value === undefined ? undefined : httpUrl(value);
    let protocol: OtlpProtocol;
    if (this.raw(protocolName) === undefined && url?.port === OTLP_GRPC_PORT) {
      // Someone pointing at 4317 means gRPC; sending HTTP there would lose every span.
      protocol = 'grpc';
      this.warnings.push(
        `${endpointName} uses port ${OTLP_GRPC_PORT} (OTLP/gRPC) and ${protocolName} is not set: exporting over grpc; set ${protocolName}=grpc to say so, or use http/protobuf (the default) on port 4318`,
      );
    } else {
      protocol = this.oneOf(protocolName, ['http/protobuf', 'grpc'] as const, 'http/protobuf');
    }
    const given = url ? value : undefined;
    const endpoint = this.otlpUrl(protocol, given, endpointName);
    if (value !== undefined && !url) this.invalid(endpointName, value, endpoint);
    return { protocol, endpoint };
  }

  private otlpUrl(protocol: OtlpProtocol, given: string | undefined, endpointName: string): string {
    if (protocol === 'grpc') return given ?? DEFAULT_ENDPOINTS.grpc;
    // As given for the traces-specific variable; the signal path appended to the general one.
    if (given !== undefined && endpointName === V.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return given;
    const base = given ?? DEFAULT_ENDPOINTS['http/protobuf'];
    // Appended to the path, before any query string (`http://gw/otlp?tenant=a`).
    const query = base.search(/[?#]/);
    const [path, rest] = query < 0 ? [base, ''] : [base.slice(0, query), base.slice(query)];
    return `${path.endsWith('/') ? path : `${path}/`}${OTLP_HTTP_TRACES_PATH}${rest}`;
  }

  /** The traces-specific variable when it is set (and not empty), else the general one. */
  preferSignal(signalName: string, generalName: string): string {
    return this.raw(signalName) !== undefined ? signalName : generalName;
  }

  /**
   * `key=value,key2=value2`, percent-encoded, as the OpenTelemetry spec defines for resource
   * attributes and headers. Header values are often credentials, so a bad header entry is
   * reported by its position only.
   */
  keyValues(name: string, showValues: boolean): Record<string, string> {
    const result: Record<string, string> = {};
    const value = this.raw(name);
    if (value === undefined) return result;
    value.split(',').forEach((entry, index) => {
      if (entry.trim() === '') return;
      const eq = entry.indexOf('=');
      const key = eq > 0 ? safeDecode(entry.slice(0, eq).trim()) : undefined;
      const val = eq > 0 ? safeDecode(entry.slice(eq + 1).trim()) : undefined;
      if (key && val !== undefined) {
        result[key] = val;
      } else {
        this.invalid(name, showValues ? entry : `entry #${index + 1}`, 'the other entries');
      }
    });
    return result;
  }

  propagators(): PropagatorName[] {
    const value = this.raw(V.OTEL_PROPAGATORS);
    const fallback: PropagatorName[] = ['xray', 'tracecontext', 'baggage'];
    if (value === undefined) return fallback;
    const names = new Set<PropagatorName>();
    const unknown: string[] = [];
    for (const item of value.split(',').map((s) => s.trim().toLowerCase())) {
      if (item === 'none') return [];
      if (item === 'xray' || item === 'xray-lambda') names.add('xray');
      else if (item === 'tracecontext' || item === 'baggage') names.add(item);
      else if (item !== '') unknown.push(item);
    }
    if (unknown.length > 0) {
      const used = names.size > 0 ? [...names].join(',') : fallback.join(',');
      this.warnings.push(
        `${V.OTEL_PROPAGATORS} value "${unknown.join(',')}" is not a known propagator, using ${used}`,
      );
    }
    return names.size > 0 ? [...names] : fallback;
  }

  /** A comma-separated list; an empty value (or only commas) means an empty list. */
  list(name: string): string[] | undefined {
    const value = this.env[name];
    if (value === undefined) return undefined;
    return value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  instrumentations(): Set<string> {
    const enabled = this.nameList(V.OTEL_NODE_ENABLED_INSTRUMENTATIONS) ?? [...KNOWN_INSTRUMENTATIONS];
    const disabled = new Set(this.nameList(V.OTEL_NODE_DISABLED_INSTRUMENTATIONS) ?? []);
    return new Set(enabled.filter((name) => !disabled.has(name)));
  }

  private nameList(name: string): string[] | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    const names = value
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== '');
    const unknown = names.filter((n) => !KNOWN_INSTRUMENTATIONS.includes(n));
    if (unknown.length > 0) {
      this.warnings.push(
        `${name} names unknown instrumentation "${unknown.join(',')}", ignored; known: ${KNOWN_INSTRUMENTATIONS.join(',') || '(none)'}`,
      );
    }
    return names.filter((n) => KNOWN_INSTRUMENTATIONS.includes(n));
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function parseDecimal(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/** `value` parsed, when it is an `http(s)://host...` URL (what an OTLP endpoint must be). */
function httpUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    if ((url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '') return url;
  } catch {
    // Not a URL at all.
  }
  return undefined;
}
