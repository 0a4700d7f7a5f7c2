/**
 * The slots API's HTTP server as a part whose stop is polite to keep-alive clients: it
 * stops accepting connections first (node:cluster's primary hands this process no more),
 * answers every request that still arrives on an open connection (in flight or new) with
 * `Connection: close`, gives idle keep-alive connections `idleGraceMs` to bring a request
 * they may be sending, then closes them and finishes the requests in flight.
 */
import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { ListenOn, Part } from '@tower/shared';

export function drainingHttpPart(name: string, app: FastifyInstance, listen: ListenOn | undefined, idleGraceMs = 1000, stopTimeoutMs = 15_000): Part {
  let draining = false;
  app.addHook('onSend', async (_request, reply, payload) => {
    if (draining) reply.header('connection', 'close');
    return payload;
  });
  return {
    name,
    stopTimeoutMs,
    start: async () => void (listen ? await app.listen(listen) : await app.ready()),
    stop: async () => {
      draining = true;
      // net's close, not http's: http.Server.close would close the idle keep-alive connections at once, under a client sending on one.
      if (listen) {
        net.Server.prototype.close.call(app.server);
        await new Promise((resolve) => setTimeout(resolve, idleGraceMs));
      }
      // Idle connections closed, requests in flight finished; one arriving now is a 503 to retry (with Connection: close).
      await app.close();
    },
  };
}
