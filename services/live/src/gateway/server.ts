import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { ForbiddenProblem, NotFoundProblem, rawProblemResponse, RateLimitedProblem, UnauthorizedProblem, type ProblemError, type AccessRecord, type AccessRegistry, type ClickHouseClient, type Logger, type SiteCatalog } from '@tower/shared';
import { closeCodes, liveSubprotocol } from '../domain/protocol.ts';
import { QueryCanceller } from './cancellable-queries.ts';
import type { LiveHub } from './hub.ts';
import type { GatewayMetrics } from './metrics.ts';
import { LiveSession, type SessionSettings, type SnapshotSources } from './session.ts';
import { SnapshotReads, type SnapshotBudgets } from './snapshot-reads.ts';
import { WriteBatcher } from './write-batcher.ts';

export interface GatewaySettings extends SessionSettings {
  /** Origins a browser may open the socket from besides the gateway's own; requests without Origin (not browsers) pass. */
  allowedOrigins: readonly string[];
  maxPayloadBytes: number;
  pingIntervalMs: number;
  snapshotBudgets: SnapshotBudgets;
}

export interface GatewayDependencies {
  settings: GatewaySettings;
  access: AccessRegistry;
  hub: LiveHub;
  catalog: SiteCatalog;
  snapshots: SnapshotSources;
  /** What snapshot reads query (bound per read, so an abandoned read's queries are killed). */
  clickhouse: ClickHouseClient;
  metrics: GatewayMetrics;
  logger: Logger;
}

const tokenProtocolPrefix = 'token.';

/**
 * The token of an upgrade: `?token=` or, for browsers that keep it out of URLs, a
 * second subprotocol `token.<token>` next to `tower.live.v1`.
 */
function tokenOf(request: IncomingMessage, url: URL): string | undefined {
  const offered = String(request.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim());
  const fromProtocol = offered.find((p) => p.startsWith(tokenProtocolPrefix))?.slice(tokenProtocolPrefix.length);
  return fromProtocol || url.searchParams.get('token') || undefined;
}

/**
 * Refuses an upgrade with a problem+json answer carrying the same security headers as
 * every HTTP answer; no WebSocket message is ever sent. Details never repeat what the
 * client sent (path, origin).
 */
function refuse(socket: Duplex, problem: ProblemError): void {
  socket.end(rawProblemResponse(problem));
  socket.destroy();
}

/**
 * `/v1/live` on the app's HTTP server. Authentication, origin and the per-token
 * connection limit are decided at the upgrade, before any WebSocket frame: a refusal is
 * an HTTP answer (401, 403, 429) and the socket is destroyed. Accepted sockets are
 * pinged every `pingIntervalMs`; one that did not answer the previous ping is closed.
 */
export function attachGateway(app: FastifyInstance, deps: GatewayDependencies): { close(): Promise<void>; connections(): number } {
  const { settings, metrics, logger } = deps;
  const allowedOrigins = new Set(settings.allowedOrigins);
  const perToken = new Map<string, number>();
  const sessions = new Map<WebSocket, { session: LiveSession; alive: boolean }>();
  const batcher = new WriteBatcher();
  const canceller = new QueryCanceller(deps.clickhouse, logger);
  const reads = new SnapshotReads(settings.snapshotBudgets, (signal) => canceller.bind(signal), (outcome) => metrics.snapshotReads.inc({ outcome }));
  metrics.watchQueues(() => sessions.keys());
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: settings.maxPayloadBytes,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(liveSubprotocol) ? liveSubprotocol : false),
  });

  app.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://gateway');
    if (url.pathname !== '/v1/live') return refuse(socket, new NotFoundProblem('the only WebSocket endpoint is /v1/live'));
    const origin = request.headers.origin;
    // The wall is served by the gateway itself: a page of the same origin is always allowed.
    const host = request.headers.host;
    const sameOrigin = origin !== undefined && host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
    if (origin !== undefined && !sameOrigin && !allowedOrigins.has(origin)) {
      metrics.rejected.inc({ status: '403' });
      return refuse(socket, new ForbiddenProblem('the Origin of this page is not allowed (ALLOWED_ORIGINS)'));
    }
    const token = tokenOf(request, url);
    const access = token ? deps.access.verify(token) : undefined;
    if (!access) {
      metrics.rejected.inc({ status: '401' });
      return refuse(socket, new UnauthorizedProblem(token ? 'the token is not valid' : `a token is required: ?token=<token> or the subprotocol ${tokenProtocolPrefix}<token>`));
    }
    const open = perToken.get(access.id) ?? 0;
    if (open >= access.maxConnections) {
      metrics.rejected.inc({ status: '429' });
      return refuse(socket, new RateLimitedProblem(`token ${access.id} already has ${open} connections open (at most ${access.maxConnections})`, 5));
    }
    wss.handleUpgrade(request, socket, head, (ws) => accept(ws, socket, access));
  });

  /** `socket` is the upgraded TCP socket the WebSocket writes to (corked per round by the batcher). */
  function accept(ws: WebSocket, socket: Duplex, access: AccessRecord): void {
    perToken.set(access.id, (perToken.get(access.id) ?? 0) + 1);
    const session = new LiveSession(ws, access, deps.hub, deps.catalog, deps.snapshots, reads, settings, metrics, logger, () => batcher.hold(socket));
    sessions.set(ws, { session, alive: true });
    metrics.connections.inc({ role: access.role });
    ws.on('pong', () => {
      const entry = sessions.get(ws);
      if (entry) entry.alive = true;
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        metrics.closing(ws, 'protocol-error');
        ws.close(closeCodes.protocolError, 'text frames only');
        return;
      }
      session.onMessage(data.toString()).catch((error: unknown) => logger.error({ err: error }, 'live message failed'));
    });
    // A frame the WebSocket library refused (malformed, invalid UTF-8, too big): it closes the socket with the code.
    ws.on('error', (error) => {
      metrics.closing(ws, 'bad-frame');
      logger.info({ err: error, access: access.id }, 'live socket error');
    });
    ws.on('close', (code) => {
      session.close();
      sessions.delete(ws);
      perToken.set(access.id, (perToken.get(access.id) ?? 1) - 1);
      metrics.connections.dec({ role: access.role });
      metrics.closed(ws, code);
    });
  }

  const heartbeat = setInterval(() => {
    for (const [ws, entry] of sessions) {
      if (!entry.alive) {
        metrics.closing(ws, 'unresponsive');
        ws.terminate();
        continue;
      }
      entry.alive = false;
      ws.ping();
    }
    deps.hub.prune(Date.now());
  }, settings.pingIntervalMs);

  return {
    connections: () => sessions.size,
    async close() {
      clearInterval(heartbeat);
      for (const ws of sessions.keys()) {
        metrics.closing(ws, 'shutdown');
        ws.close(closeCodes.goingAway, 'gateway shutting down');
      }
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
