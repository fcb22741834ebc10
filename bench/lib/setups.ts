/**
 * The setups compared, each started the way a user would deploy it on Lambda. The environment every
 * setup shares (the X-Ray daemon address Lambda sets when active tracing is on, the function's own
 * settings) is added by the runner, so only what differs is here.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { ENV_VARS, OTEL_TRACES_EXPORTER } from '../../src/config/env-vars.js';
import type { Footprint, InstalledPeer, PeerName } from './peers.js';
import { peerFootprint, treeBytes, zipSize } from './peers.js';
import type { SpanSinks } from './span-sinks.js';

/** What a setup needs to start. */
export interface SetupContext {
  sinks: SpanSinks;
  /** This layer's built tree (what Lambda unpacks at /opt). */
  layerDir: string;
  /** This layer's zip. */
  layerZip: string;
  /** An empty folder standing for /opt when no layer is attached. */
  emptyOptDir: string;
  peers: Partial<Record<PeerName, InstalledPeer>>;
}

/** How the local Lambda starts the function for one setup. */
export interface Launch {
  execWrapper?: string;
  /** The folder standing for /opt (on NODE_PATH). */
  optDir: string;
  env: Record<string, string>;
}

/** One column of the comparison. */
export interface Setup {
  id: string;
  label: string;
  /** Where its spans go, for the report. */
  exportPath: string;
  /** Which handler file of the fixture runs: the plain one, or the one instrumented by hand with the X-Ray SDK. */
  handlerFile: 'index' | 'xray';
  /** The peer it needs installed, if any. */
  peer?: PeerName;
  /** For this layer's setups: the id of the ADOT setup that exports the same way, to compare like with like. */
  sameExportAs?: string;
  launch(context: SetupContext): Launch;
  footprint(context: SetupContext): Footprint | undefined;
}

/** True when this checkout's layer has a daemon (UDP) exporter: its README row lists an `xray` value. */
export function layerHasDaemonExporter(): boolean {
  return ENV_VARS.some((v) => v.name === OTEL_TRACES_EXPORTER && v.description.includes('`xray`'));
}

const ourFootprint = (context: SetupContext): Footprint => ({
  // The built zip when it sits beside the tree (layer/build.mjs puts it there), else zip the tree.
  zipBytes: existsSync(context.layerZip) ? statSync(context.layerZip).size : zipSize(context.layerDir),
  unpackedBytes: treeBytes(context.layerDir),
  what: 'layer.zip and its unpacked tree',
});

const peerDir = (context: SetupContext, name: PeerName): InstalledPeer => {
  const peer = context.peers[name];
  if (!peer) throw new Error(`peer ${name} is not installed`);
  return peer;
};

type Env = Record<string, string>;

/** This layer through its exec wrapper, with `env` on top of its defaults. */
function ours(
  id: string,
  label: string,
  exportPath: string,
  env: (c: SetupContext) => Env,
  sameExportAs?: string,
): Setup {
  return {
    id,
    label,
    exportPath,
    ...(sameExportAs ? { sameExportAs } : {}),
    handlerFile: 'index',
    launch: (c) => ({ execWrapper: path.join(c.layerDir, 'otel-handler'), optDir: c.layerDir, env: env(c) }),
    footprint: ourFootprint,
  };
}

/** ADOT's layer through its `otel-instrument`, with `env` on top of what that script sets. */
function adot(id: string, label: string, exportPath: string, env: (c: SetupContext) => Env): Setup {
  return {
    id,
    label,
    exportPath,
    handlerFile: 'index',
    peer: 'adot',
    launch: (c) => {
      const layer = peerDir(c, 'adot').layerDir;
      return { execWrapper: path.join(layer, 'otel-instrument'), optDir: layer, env: env(c) };
    },
    footprint: (c) => peerFootprint(peerDir(c, 'adot')),
  };
}

/** The setups, baseline first; `daemon` adds this layer's UDP exporter when the layer has one. */
export function allSetups(daemon: boolean): Setup[] {
  const setups: Setup[] = [
    {
      id: 'baseline',
      label: 'no tracing',
      exportPath: '-',
      handlerFile: 'index',
      launch: (c) => ({ optDir: c.emptyOptDir, env: {} }),
      footprint: () => undefined,
    },
    ours(
      'ours',
      'otel-lambda-xray (OTLP/HTTP, with a collector)',
      'OTLP http/protobuf to the collector extension',
      (c) => ({
        OTEL_EXPORTER_OTLP_ENDPOINT: c.sinks.httpEndpoint,
      }),
      'adot-otlp',
    ),
    ours(
      'ours-grpc',
      'otel-lambda-xray (OTLP/gRPC)',
      'OTLP/gRPC to the collector extension',
      (c) => ({
        OTEL_EXPORTER_OTLP_ENDPOINT: c.sinks.grpcEndpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      }),
      'adot-grpc',
    ),
  ];
  if (daemon) {
    setups.push(
      ours(
        'ours-udp',
        'otel-lambda-xray (default: daemon UDP)',
        'X-Ray segments over UDP to the daemon (its default without a collector)',
        // Nothing set: with no collector extension and no OTLP variable, the layer's default.
        () => ({}),
        'adot',
      ),
    );
  }
  setups.push(
    adot(
      'adot',
      'ADOT layer (as shipped: UDP)',
      'OTLP spans over UDP to the daemon (its Lambda default)',
      () => ({}),
    ),
    // Setting the traces endpoint is what switches ADOT from UDP to OTLP in Lambda.
    adot('adot-otlp', 'ADOT layer (OTLP/HTTP)', 'OTLP http/protobuf to the collector extension', (c) => ({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${c.sinks.httpEndpoint}/v1/traces`,
    })),
    adot('adot-grpc', 'ADOT layer (OTLP/gRPC)', 'OTLP/gRPC to the collector extension', (c) => ({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: c.sinks.grpcEndpoint,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc',
    })),
    // otel-instrument appends aws-lambda and http to a list the user sets.
    adot(
      'adot-pg',
      'ADOT layer (UDP, pg enabled)',
      'OTLP spans over UDP to the daemon, with the pg instrumentation turned on as a user would',
      () => ({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'aws-sdk,pg' }),
    ),
    {
      id: 'otel-lambda',
      label: 'OpenTelemetry layer (auto-instrumentations-node)',
      exportPath: 'OTLP http/protobuf to the collector extension',
      handlerFile: 'index',
      peer: 'otel-lambda',
      launch: (c) => {
        const layer = peerDir(c, 'otel-lambda').layerDir;
        return {
          execWrapper: path.join(layer, 'otel-handler'),
          optDir: layer,
          env: {
            OTEL_EXPORTER_OTLP_ENDPOINT: c.sinks.httpEndpoint,
            OTEL_METRICS_EXPORTER: 'none',
            OTEL_LOGS_EXPORTER: 'none',
          },
        };
      },
      footprint: (c) => peerFootprint(peerDir(c, 'otel-lambda')),
    },
    {
      id: 'xray-sdk',
      label: 'aws-xray-sdk (in the code)',
      exportPath: 'X-Ray subsegments over UDP to the daemon',
      handlerFile: 'xray',
      peer: 'xray-sdk',
      launch: (c) => ({ optDir: c.emptyOptDir, env: {} }),
      footprint: (c) => peerFootprint(peerDir(c, 'xray-sdk')),
    },
  );
  return setups;
}
