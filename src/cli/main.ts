#!/usr/bin/env node
/**
 * The package's command line, `otel-lambda-xray <command>`:
 *
 * - `local`: a local X-Ray view (daemon stand-in on UDP 2000, OTLP/HTTP on 4318, OTLP/gRPC on
 *   4317, web page on 2001);
 * - `demo`: the example functions run through the built layer, traced into the local view.
 *
 * The CLI is strict where the layer is lenient: a bad flag stops it with a clear message.
 */
import { parseArgs } from 'node:util';
import { runDemo } from './demo/run-demo.js';
import { runLocal } from './local-command.js';

const USAGE = `usage: otel-lambda-xray <command> [options]

commands:
  local    receive spans as the X-Ray daemon (UDP) and an OTLP collector (HTTP/protobuf and gRPC)
           do, print each trace as a tree, and serve a web view of the traces
             --udp-port N            X-Ray daemon stand-in port (default 2000)
             --otlp-http-port N      OTLP/HTTP port, POST /v1/traces (default 4318)
             --otlp-port N           OTLP/gRPC port (default 4317)
             --port N                web view port (default 2001)
             --host ADDRESS          interface to listen on (default 127.0.0.1)
             --indexed-attributes A,B  annotations for OTLP spans (default: collector-config.yaml's)
  demo     run the example functions through the built layer into the local view
             --short                 run the scenario once, print the traces, exit
             --port N                web view port (default 2001; a free one if taken)
             --layer DIR             the built layer (default dist/layer)
             --runtime R             nodejs24.x (default) or nodejs22.x
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 1 : 0;
  }
  if (command === 'local') {
    const { values } = parseArgs({
      args: rest,
      options: {
        'udp-port': { type: 'string' },
        'otlp-port': { type: 'string' },
        'otlp-http-port': { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'indexed-attributes': { type: 'string' },
      },
    });
    return runLocal({
      udpPort: port(values['udp-port'], '--udp-port'),
      otlpPort: port(values['otlp-port'], '--otlp-port'),
      otlpHttpPort: port(values['otlp-http-port'], '--otlp-http-port'),
      webPort: port(values.port, '--port'),
      host: values.host,
      indexedAttributes: values['indexed-attributes']
        ?.split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    });
  }
  if (command === 'demo') {
    const { values } = parseArgs({
      args: rest,
      options: {
        short: { type: 'boolean', default: false },
        port: { type: 'string' },
        layer: { type: 'string' },
        runtime: { type: 'string', default: 'nodejs24.x' },
      },
    });
    if (values.runtime !== 'nodejs24.x' && values.runtime !== 'nodejs22.x') {
      throw new UsageError(`--runtime must be nodejs24.x or nodejs22.x, not ${values.runtime}`);
    }
    return runDemo({
      short: values.short === true,
      webPort: port(values.port, '--port'),
      layerDir: values.layer,
      runtime: values.runtime,
    });
  }
  throw new UsageError(`unknown command "${command}"`);
}

class UsageError extends Error {}

function port(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(parsed >= 0 && parsed <= 65_535))
    throw new UsageError(`${flag} must be a port number, not "${value}"`);
  return parsed;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const usage =
      error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    console.error(`otel-lambda-xray: ${(error as Error).message ?? String(error)}`);
    if (usage) console.error(USAGE);
    process.exitCode = usage ? 2 : 1;
  },
);
