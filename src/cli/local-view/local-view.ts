import { DEFAULT_INDEXED_ATTRIBUTES } from '../../config/load-config.js';
import type { OtlpSpan } from '../../local/otlp-decode/decode-trace-request.js';
import { toReadableSpan } from '../../local/otlp-decode/readable-span.js';
import { toSegmentDocuments } from '../../xray/segment-document.js';
import { DaemonServer } from './daemon-server.js';
import { OtlpGrpcServer } from './otlp-grpc-server.js';
import { OtlpHttpServer } from './otlp-http-server.js';
import { TraceStore } from './trace-store.js';
import { WebServer } from './web-server.js';

/** Where the local view listens. Port 0 picks a free one. */
export interface LocalViewOptions {
  /** Interface for all four listeners. Default 127.0.0.1. */
  host?: string;
  /** The X-Ray daemon stand-in (UDP). Default 2000, the daemon's. */
  udpPort?: number;
  /** OTLP/gRPC. Default 4317, the collector's. */
  otlpPort?: number;
  /** OTLP/HTTP (`POST /v1/traces`, protobuf). Default 4318, the collector's. */
  otlpHttpPort?: number;
  /** The web page. Default 2001. */
  webPort?: number;
  /** Attributes that become annotations for spans arriving over OTLP (the collector's setting). */
  indexedAttributes?: readonly string[];
  /** Called with each problem met (an undecodable datagram or request). */
  onWarning?(message: string): void;
}

/** The ports the view takes when none are given. */
export const DEFAULT_PORTS = { udp: 2000, otlp: 4317, otlpHttp: 4318, web: 2001 } as const;

/**
 * What X-Ray would show, locally: receives segment documents as the X-Ray daemon does, and OTLP
 * spans as the collector does, over gRPC or HTTP (translated with the same `src/xray/` code the `xray` exporter uses,
 * standing in for the collector's `awsxray` exporter), keeps the traces, and serves them as a web
 * page.
 *
 * @example
 * const view = await LocalView.start({ udpPort: 0, otlpPort: 0, otlpHttpPort: 0, webPort: 0 });
 * console.log(view.webUrl, view.daemonAddress, view.otlpHttpEndpoint, view.otlpEndpoint);
 */
export class LocalView {
  private constructor(
    readonly store: TraceStore,
    private readonly daemon: DaemonServer,
    private readonly otlp: OtlpGrpcServer,
    private readonly otlpHttp: OtlpHttpServer,
    private readonly web: WebServer,
  ) {}

  /** Starts every listener, or none: one that fails (e.g. EADDRINUSE) closes the others and rejects. */
  static async start(options: LocalViewOptions = {}): Promise<LocalView> {
    const host = options.host ?? '127.0.0.1';
    const store = new TraceStore();
    const indexedAttributes = options.indexedAttributes ?? DEFAULT_INDEXED_ATTRIBUTES;
    const started: Array<{ close(): Promise<void> }> = [];
    try {
      const daemon = await DaemonServer.start({
        host,
        port: options.udpPort ?? DEFAULT_PORTS.udp,
        onDocument: (document) => store.add(document),
        onInvalid: options.onWarning,
      });
      started.push(daemon);
      // Both OTLP receivers translate the same way, as one collector with two protocols would.
      const onSpans = (spans: OtlpSpan[]) => {
        for (const span of spans) {
          for (const document of toSegmentDocuments(toReadableSpan(span), { indexedAttributes })) {
            store.add(document);
          }
        }
      };
      const otlp = await OtlpGrpcServer.start({
        host,
        port: options.otlpPort ?? DEFAULT_PORTS.otlp,
        onSpans,
        onInvalid: options.onWarning,
      });
      started.push(otlp);
      const otlpHttp = await OtlpHttpServer.start({
        host,
        port: options.otlpHttpPort ?? DEFAULT_PORTS.otlpHttp,
        onSpans,
        onInvalid: options.onWarning,
      });
      started.push(otlpHttp);
      const web = await WebServer.start({ host, port: options.webPort ?? DEFAULT_PORTS.web, store });
      return new LocalView(store, daemon, otlp, otlpHttp, web);
    } catch (error) {
      await Promise.all(started.map((server) => server.close()));
      throw error;
    }
  }

  /** `host:port` for `AWS_XRAY_DAEMON_ADDRESS`. */
  get daemonAddress(): string {
    return this.daemon.address;
  }

  /** The OTLP/gRPC `http://host:port`, for `OTEL_EXPORTER_OTLP_ENDPOINT` with `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`. */
  get otlpEndpoint(): string {
    return this.otlp.endpoint;
  }

  /** The OTLP/HTTP `http://host:port` (the default `http/protobuf` protocol), for `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  get otlpHttpEndpoint(): string {
    return this.otlpHttp.endpoint;
  }

  get webUrl(): string {
    return this.web.url;
  }

  async close(): Promise<void> {
    await Promise.all([this.daemon.close(), this.otlp.close(), this.otlpHttp.close(), this.web.close()]);
  }
}
