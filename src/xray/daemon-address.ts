import { isIP } from 'node:net';
import { diag } from '@opentelemetry/api';

/** Where the X-Ray daemon listens for UDP segment documents. */
export interface DaemonAddress {
  host: string;
  port: number;
}

/** The daemon's default address (and Lambda's is set in `AWS_XRAY_DAEMON_ADDRESS`). */
export const DEFAULT_DAEMON_ADDRESS: Readonly<DaemonAddress> = Object.freeze({
  host: '127.0.0.1',
  port: 2000,
});

/**
 * Parses an `AWS_XRAY_DAEMON_ADDRESS` value: `host:port` (Lambda sets e.g.
 * `169.254.79.129:2000`), `[ipv6]:port`, or the two-address form `tcp:HOST:PORT udp:HOST:PORT`
 * (either order) of which the UDP one is used. Returns `undefined` when the value is malformed.
 */
export function parseDaemonAddress(value: string): DaemonAddress | undefined {
  const parts = value.trim().split(/\s+/);
  if (parts.length === 1 && parts[0] !== '') return parseHostPort(parts[0]);
  if (parts.length !== 2) return undefined;
  const udp = parts.find((part) => part.startsWith('udp:'));
  const tcp = parts.find((part) => part.startsWith('tcp:'));
  if (udp === undefined || tcp === undefined) return undefined;
  return parseHostPort(udp.slice('udp:'.length));
}

/**
 * The daemon address from `address`, or the default (`127.0.0.1:2000`) when it is not given.
 * A malformed value falls back to the default with one warning, so a typo in configuration
 * costs the traces, never the function.
 */
export function resolveDaemonAddress(address: string | undefined): DaemonAddress {
  if (address === undefined || address.trim() === '') return { ...DEFAULT_DAEMON_ADDRESS };
  const parsed = parseDaemonAddress(address);
  if (parsed !== undefined) return parsed;
  diag.warn(
    `AWS_XRAY_DAEMON_ADDRESS value "${address}" invalid (expected host:port or "tcp:host:port udp:host:port"), ` +
      `using ${DEFAULT_DAEMON_ADDRESS.host}:${DEFAULT_DAEMON_ADDRESS.port}`,
  );
  return { ...DEFAULT_DAEMON_ADDRESS };
}

function parseHostPort(text: string): DaemonAddress | undefined {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]\s]+):(\d+)$/.exec(text);
  if (match === null) return undefined;
  const [, host, portText] = match;
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  if (text.startsWith('[') && isIP(host) !== 6) return undefined;
  return { host, port };
}
