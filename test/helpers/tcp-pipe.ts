import type { Socket } from 'node:net';

/**
 * Pipes two sockets into each other; when either errors or closes, both are destroyed and `onDrop`
 * (if given) runs once.
 */
export function joinSockets(client: Socket, upstream: Socket, onDrop?: () => void): void {
  let dropped = false;
  const drop = (): void => {
    if (dropped) return;
    dropped = true;
    client.destroy();
    upstream.destroy();
    onDrop?.();
  };
  for (const socket of [client, upstream]) {
    // Without it, a small write the pipe passes on (an HTTP/2 DATA frame after its HEADERS) waits
    // for the ACK of the one before, which the far end delays: ~40 ms per request.
    socket.setNoDelay(true);
    socket.on('error', drop);
    socket.on('close', drop);
  }
  client.pipe(upstream).pipe(client);
}
