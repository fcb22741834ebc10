import { createSocket, type Socket } from 'node:dgram';
import type { XRaySegmentDocument } from '../../xray/segment-types.js';

/** What the daemon stand-in does with each datagram. */
export interface DaemonServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  onDocument(document: XRaySegmentDocument): void;
  /** A datagram that is not `header\ndocument` JSON. */
  onInvalid?(reason: string): void;
}

/**
 * A stand-in for the X-Ray daemon: a UDP socket taking what X-Ray SDKs and the `xray` exporter
 * send, `{"format":"json","version":1}` + newline + one segment document per datagram
 * (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html#xray-api-daemon).
 */
export class DaemonServer {
  private constructor(private readonly socket: Socket) {}

  static async start(options: DaemonServerOptions): Promise<DaemonServer> {
    const socket = createSocket('udp4');
    socket.on('message', (message) => {
      const text = message.toString('utf8');
      const newline = text.indexOf('\n');
      try {
        const header = JSON.parse(text.slice(0, newline)) as { format?: string };
        if (newline < 0 || header.format !== 'json') throw new Error('no {"format":"json"} header line');
        options.onDocument(JSON.parse(text.slice(newline + 1)) as XRaySegmentDocument);
      } catch (error) {
        options.onInvalid?.(`datagram of ${message.length} bytes ignored: ${(error as Error).message}`);
      }
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(options.port, options.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new DaemonServer(socket);
  }

  /** `host:port`, as `AWS_XRAY_DAEMON_ADDRESS` takes it. */
  get address(): string {
    const { address, port } = this.socket.address();
    return `${address}:${port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
