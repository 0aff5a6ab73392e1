import type { Server } from 'node:net';
import { addressKey } from './rate-limits.js';

/**
 * Closes at once every connection beyond `max` open from one remote address (an IPv6 address counts
 * by its /64). 0 = no cap. The count lives in this process: only the open connections are held.
 */
export function capConnectionsPerAddress(server: Server, max: number, refused: () => void): void {
  if (max === 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket) => {
    const key = addressKey(socket.remoteAddress);
    const count = open.get(key) ?? 0;
    if (count >= max) {
      refused();
      socket.destroy();
      return;
    }
    open.set(key, count + 1);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left > 0) open.set(key, left);
      else open.delete(key);
    });
  });
}
