import type { AddressInfo } from 'node:net';
import { describe, expect } from 'vitest';
import WebSocket from 'ws';
import { randomUUID } from 'node:crypto';
import { createProducer, emptyMeasures, type LaneEvent, type ThroughputTick } from '@tower/shared';
import { eventually, eventuallyProgressing, test, uniqueName } from '@tower/shared/testing';
import { closeCodes, liveSubprotocol } from './domain/protocol.ts';
import { LiveHub } from './gateway/hub.ts';
import { tickFeed } from './gateway/broadcast-feed.ts';
import { EventStore } from '../../aggregator/src/store.ts';
import { migrate } from '../../aggregator/src/test-support.ts';
import type { KpisNow, LaneNow } from './domain/kpis.ts';
import { connectLiveClient, startLive, storeLaneEvents, testTokens, withToken } from './test-support.ts';

const origin = 'http://127.0.0.1:8080';
const minute = 60_000;

function tick(lane: string, windowStart: number, events: number, site = 'bac-luan-2'): ThroughputTick {
  return {
    site,
    lane,
    direction: 'export',
    laneKind: lane.includes('smart') ? 'smart' : 'manual',
    windowStart,
    windowEnd: windowStart + minute,
    final: false,
    correction: false,
    ...emptyMeasures,
    events,
    newestIngestedAt: Date.now(),
    publishedAt: Date.now(),
  };
}

const connect = (port: number, options: Parameters<typeof connectLiveClient>[1] = {}) => connectLiveClient(port, { origin, ...options });

/** The HTTP status of a refused upgrade, and whether any WebSocket message came before it. */
function refusal(port: number, query: string, headers: Record<string, string> = { origin }, path = '/v1/live'): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}${query}`, [liveSubprotocol], { headers });
    ws.on('message', () => reject(new Error('a message arrived on a refused socket')));
    ws.on('open', () => reject(new Error('the upgrade was accepted')));
    ws.on('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, headers: response.headers }));
    });
    ws.on('error', () => undefined);
  });
}

const portOf = (live: { app: { server: { address(): unknown } } }) => (live.app.server.address() as AddressInfo).port;

/** The client's TCP socket: paused, the client stops reading (a slow wall). */
const socketOf = (client: { ws: WebSocket }) => (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;

/** A gauge or counter of the gateway's /metrics by its one label's value ('' without labels). */
async function metricOf(live: { app: { inject(request: { url: string }): Promise<{ body: string }> } }, name: string): Promise<Record<string, number>> {
  const text = (await live.app.inject({ url: '/metrics' })).body;
  return Object.fromEntries([...text.matchAll(new RegExp(`^${name}(?:\\{\\w+="([\\w-]+)"\\})? (\\S+)$`, 'gm'))].map(([, value, count]) => [value ?? '', Number(count)]));
}

describe('live gateway against real ClickHouse and Kafka', () => {
  test('refuses at the upgrade: no or bad token 401, bad origin 403, too many sockets for a token 429; accepts the token as a subprotocol', async ({ logger, clickhouse, redis, kafka }) => {
    await migrate(clickhouse.settings);
    const live = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka });
    await live.app.listen({ port: 0, host: '127.0.0.1' });
    const port = portOf(live);
    try {
      expect(await refusal(port, '')).toMatchObject({ status: 401, body: expect.stringContaining('a token is required') });
      expect((await refusal(port, '?token=wall-t.wrong')).status).toBe(401);
      expect((await refusal(port, `?token=${encodeURIComponent(testTokens.disabled)}`)).status).toBe(401);
      const foreign = await refusal(port, `?token=${encodeURIComponent(testTokens.display)}`, { origin: 'https://evil.example/<script>' });
      expect(foreign).toMatchObject({ status: 403, body: expect.stringContaining('Origin of this page is not allowed') });
      // A refusal is a problem like any HTTP answer: security headers, nothing the client sent repeated.
      expect(foreign.body).not.toContain('evil.example');
      expect(foreign.headers).toMatchObject({ 'content-type': expect.stringContaining('application/problem+json'), 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY' });
      const elsewhere = await refusal(port, '', { origin }, '/v1/<img src=x>');
      expect(elsewhere.status).toBe(404);
      expect(elsewhere.body).not.toContain('<img');
      // The gateway's own origin (the wall it serves, directly or behind a TLS proxy) is always allowed.
      const own = await connect(port, { origin: `https://127.0.0.1:${port}` });
      own.ws.close();
      await own.closed;
      await eventually(async () => (live.connections() === 0 ? true : undefined), { what: 'the same-origin socket counted out' });
      const open = [await connect(port), await connect(port, { viaProtocol: true }), await connect(port)];
      expect(open[1]!.ws.protocol).toBe(liveSubprotocol);
      expect(await refusal(port, `?token=${encodeURIComponent(testTokens.display)}`)).toMatchObject({ status: 429, body: expect.stringContaining('at most 3') });
      expect(open.every((c) => c.messages.length === 0)).toBe(true);
      open[0]!.ws.close();
      await open[0]!.closed;
      await eventually(async () => (live.connections() === 2 ? true : undefined), { what: 'the closed socket to be counted out' });
      const again = await connect(port);
      again.ws.close();
      for (const c of open.slice(1)) c.ws.close();
    } finally {
      await live.closeGateway();
      await live.app.close();
    }
  });

  test('snapshot first, then numbered deltas of the filter only; a repeated id replaces; bad messages get errors naming the field', async ({ logger, clickhouse, redis, kafka }) => {
    await migrate(clickhouse.settings);
    const live = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka });
    await live.app.listen({ port: 0, host: '127.0.0.1' });
    const client = await connect(portOf(live));
    try {
      const now = Math.floor(Date.now() / minute) * minute;
      live.hub.publishTick(tick('bl2-smart-ex-1', now - minute, 4), Date.now()); // on the board before anyone subscribes
      client.send({ type: 'subscribe', id: 'a', channel: 'throughput', filter: { site: 'bac-luan-2', kind: 'smart' } });
      const snapshot = await client.next((m) => m.type === 'snapshot' && m.id === 'a', 'snapshot a');
      const data = snapshot.data as { history: { start: number }[]; windows: ThroughputTick[] };
      expect(data.history).toHaveLength(60);
      expect(data.windows.map((w) => [w.lane, w.events])).toEqual([['bl2-smart-ex-1', 4]]);
      expect(snapshot.seq).toBe(0);

      live.hub.publishTick(tick('bl2-smart-ex-1', now, 1), Date.now());
      live.hub.publishTick(tick('bl2-manual-ex-1', now, 9), Date.now()); // another kind: not for 'a'
      live.hub.publishTick(tick('bl2-smart-ex-2', now, 2), Date.now());
      await client.next((m) => m.type === 'delta' && m.seq === 2, 'second delta');
      const deltas = client.messages.filter((m) => m.type === 'delta' && m.id === 'a');
      expect(deltas.map((d) => [d.seq, (d.data as ThroughputTick).lane])).toEqual([
        [1, 'bl2-smart-ex-1'],
        [2, 'bl2-smart-ex-2'],
      ]);
      expect(client.messages.findIndex((m) => m.type === 'snapshot')).toBeLessThan(client.messages.findIndex((m) => m.type === 'delta'));

      // The same id with another filter replaces the subscription.
      client.send({ type: 'subscribe', id: 'a', channel: 'throughput', filter: { lane: 'vn-port-gate-ex-1' } });
      await client.next((m) => m.type === 'snapshot' && m.id === 'a' && m.stream !== snapshot.stream, 'snapshot of the replacement');
      const before = client.messages.length;
      live.hub.publishTick(tick('bl2-smart-ex-1', now, 3), Date.now());
      live.hub.publishTick(tick('vn-port-gate-ex-1', now, 5, 'van-ninh'), Date.now());
      const replaced = await client.next((m, ) => m.type === 'delta' && (m.data as ThroughputTick).lane === 'vn-port-gate-ex-1', 'delta of the replacement');
      expect(replaced.seq).toBe(1);
      expect(client.messages.slice(before).filter((m) => m.type === 'delta')).toHaveLength(1);

      client.send({ type: 'subscribe', id: 'b', channel: 'throughput', filter: { site: 'van-ninh', lane: 'bl2-smart-ex-1' } });
      expect((await client.next((m) => m.type === 'error' && m.id === 'b', 'error b')).message).toBe('/filter/lane: belongs to site bac-luan-2, not van-ninh');
      client.send({ type: 'subscribe', id: 'c', channel: 'weather' });
      expect(await client.next((m) => m.type === 'error' && m.id === 'c', 'error c')).toMatchObject({ code: 'invalid-message', message: expect.stringContaining('/channel') });
      client.ws.send('not json');
      expect(await client.next((m) => m.type === 'error' && m.code === 'not-json', 'not-json error')).toBeDefined();
      for (const id of ['d', 'e', 'f', 'g']) client.send({ type: 'subscribe', id, channel: 'throughput' });
      expect(await client.next((m) => m.type === 'error' && m.code === 'too-many-subscriptions', 'limit error')).toMatchObject({ id: 'g' });
      client.send({ type: 'unsubscribe', id: 'a' });
      await client.next((m) => m.type === 'unsubscribed' && m.id === 'a', 'unsubscribed');
    } finally {
      client.ws.close();
      await live.closeGateway();
      await live.app.close();
    }
  });

  test('a reconnecting client resumes: the gap replayed from the buffer, or a fresh snapshot flagged resync when the gap is gone', async ({ logger, clickhouse, redis, kafka }) => {
    await migrate(clickhouse.settings);
    const live = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka });
    await live.app.listen({ port: 0, host: '127.0.0.1' });
    const port = portOf(live);
    const now = Math.floor(Date.now() / minute) * minute;
    try {
      const first = await connect(port);
      first.send({ type: 'subscribe', id: 'wall', channel: 'throughput', filter: { site: 'bac-luan-2' } });
      const snapshot = await first.next((m) => m.type === 'snapshot', 'snapshot');
      for (let i = 1; i <= 3; i += 1) live.hub.publishTick(tick('bl2-smart-ex-1', now, i), Date.now());
      await first.next((m) => m.seq === 3, 'delta 3');
      first.ws.close();
      await first.closed;
      for (let i = 4; i <= 6; i += 1) live.hub.publishTick(tick('bl2-smart-ex-1', now, i), Date.now());

      const second = await connect(port);
      second.send({ type: 'subscribe', id: 'wall', channel: 'throughput', filter: { site: 'bac-luan-2' }, resume: { stream: snapshot.stream, seq: 3 } });
      await second.next((m) => m.type === 'delta' && m.seq === 6, 'the gap');
      expect(second.messages.map((m) => [m.type, m.seq ?? m.fromSeq])).toEqual([
        ['resumed', 4],
        ['delta', 4],
        ['delta', 5],
        ['delta', 6],
      ]);
      second.ws.close();

      // 150 deltas later the buffer (100) no longer holds the gap: a fresh snapshot.
      for (let i = 0; i < 150; i += 1) live.hub.publishTick(tick('bl2-smart-ex-2', now, i), Date.now());
      const third = await connect(port);
      third.send({ type: 'subscribe', id: 'wall', channel: 'throughput', filter: { site: 'bac-luan-2' }, resume: { stream: snapshot.stream, seq: 6 } });
      expect(await third.next((m) => m.type === 'snapshot', 'resync snapshot')).toMatchObject({ resync: true, seq: 156 });
      // A stream of another instance (or before a restart) also gets a fresh snapshot.
      third.send({ type: 'subscribe', id: 'other', channel: 'throughput', resume: { stream: 'elsewhere/throughput?site=&lane=&kind=', seq: 6 } });
      expect(await third.next((m) => m.type === 'snapshot' && m.id === 'other', 'snapshot other')).toMatchObject({ resync: true });
      third.ws.close();
    } finally {
      await live.closeGateway();
      await live.app.close();
    }
  });

  // 40,000 ticks through a paused socket: minutes on a busy machine, where its waits hold as long as deltas keep coming.
  test('a client that stops reading gets deltas conflated to the newest per window, and is closed with 4008 if it stays behind', { timeout: 180_000 }, async ({ logger, clickhouse, redis, kafka }) => {
    await migrate(clickhouse.settings);
    const deps = { logger, clickhouse: clickhouse.client, redis: redis.redis, kafka };
    const slowClientLimits = { softQueueBytes: 64 * 1024, hardQueueBytes: 64 * 1024 * 1024, pingIntervalMs: 60_000 };
    // Behind for a moment is a moment on this gateway however long its client takes to read the flood (a busy
    // machine takes seconds, and a 1.5 s limit closed it there); the strict one closes a client behind for 1.5 s.
    const patient = await startLive(deps, { ...slowClientLimits, slowCloseMs: 10 * minute });
    const strict = await startLive(deps, { ...slowClientLimits, slowCloseMs: 1500 });
    await patient.app.listen({ port: 0, host: '127.0.0.1' });
    await strict.app.listen({ port: 0, host: '127.0.0.1' });
    const now = Math.floor(Date.now() / minute) * minute;
    // ~13 MB of ticks of a window each (nothing to conflate): more than a fresh loopback
    // socket buffers while its reader is paused (receive buffers only grow as the reader
    // reads, so each phase uses a new connection).
    const flood = (live: typeof patient, offset: number, count: number) => {
      for (let i = 0; i < count; i += 1) live.hub.publishTick(tick('bl2-smart-ex-1', now - (offset + i) * minute, i), Date.now());
    };
    try {
      const slow = await connect(portOf(patient));
      slow.send({ type: 'subscribe', id: 's', channel: 'throughput' });
      await slow.next((m) => m.type === 'snapshot', 'snapshot');

      // Behind for a moment: 1,000 updates of two windows become the newest of each.
      socketOf(slow).pause();
      flood(patient, 0, 20_000);
      for (let i = 1; i <= 1000; i += 1) patient.hub.publishTick(tick(`bl2-smart-ex-${1 + (i % 2)}`, now, i), Date.now());
      socketOf(slow).resume();
      const conflated = await slow.next((m) => m.type === 'delta' && m.conflated === true && (m.data as ThroughputTick).windowStart === now, 'conflated deltas');
      expect([999, 1000]).toContain((conflated.data as ThroughputTick).events);
      const newestOfWindows = () => slow.messages.filter((m) => m.conflated && (m.data as ThroughputTick).windowStart === now).length;
      await eventuallyProgressing({ what: 'the newest of both windows', progress: () => slow.messages.length, until: () => (newestOfWindows() === 2 ? true : undefined) });
      expect(slow.messages.filter((m) => m.type === 'delta' && (m.data as ThroughputTick).windowStart === now).length).toBeLessThan(1000);

      slow.ws.close();
      // Behind for longer than WS_SLOW_CLOSE_MS: closed with 4008.
      const slower = await connect(portOf(strict));
      slower.send({ type: 'subscribe', id: 's', channel: 'throughput' });
      await slower.next((m) => m.type === 'snapshot', 'snapshot');
      socketOf(slower).pause();
      flood(strict, 20_000, 20_000);
      await eventually(async () => (/tower_live_closes_total\{reason="too-slow"\} 1/.test((await strict.app.inject({ url: '/metrics' })).body) ? true : undefined), { timeoutMs: 30_000, what: 'the slow client closed' });
      socketOf(slower).resume();
      expect(await slower.closed).toEqual({ code: closeCodes.tooSlow, reason: 'too slow: reconnect and resume' });
    } finally {
      for (const live of [patient, strict]) {
        await live.closeGateway();
        await live.app.close();
      }
    }
  });

  test('/metrics: open sockets by role, bytes queued for a wall that stopped reading, closes by reason (the gateway’s and the clients’)', async ({ logger, clickhouse, redis, kafka }) => {
    await migrate(clickhouse.settings);
    const live = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka });
    await live.app.listen({ port: 0, host: '127.0.0.1' });
    const port = portOf(live);
    try {
      const [leaving, wall] = [await connect(port), await connect(port)];
      const operator = await connect(port, { token: testTokens.operator });
      await connect(port, { token: testTokens.haiha });
      expect(await metricOf(live, 'tower_live_connections')).toEqual({ display: 2, operator: 1, firm: 1 });

      // A wall leaves (1000); a binary frame is closed with 4002.
      leaving!.ws.close();
      operator.ws.send(Buffer.from([1, 2, 3]), { binary: true });
      expect((await operator.closed).code).toBe(closeCodes.protocolError);
      await eventually(async () => (live.connections() === 2 ? true : undefined), { what: 'both sockets counted out' });
      expect(await metricOf(live, 'tower_live_closes_total')).toEqual({ 'client-closed': 1, 'protocol-error': 1 });
      expect(await metricOf(live, 'tower_live_connections')).toEqual({ display: 1, operator: 0, firm: 1 });

      // The other wall stops reading: what the gateway wrote and it has not taken is queued, all of it on that socket.
      wall!.send({ type: 'subscribe', id: 't', channel: 'throughput' });
      await wall!.next((m) => m.type === 'snapshot', 'snapshot');
      socketOf(wall!).pause();
      const now = Math.floor(Date.now() / minute) * minute;
      // ~13 MB of ticks of a window each: more than a loopback socket buffers with its reader paused.
      for (let i = 0; i < 20_000; i += 1) live.hub.publishTick(tick('bl2-smart-ex-1', now - i * minute, i), Date.now());
      const queued = await eventually(
        async () => {
          const [total, largest] = [(await metricOf(live, 'tower_live_queued_bytes'))[''], (await metricOf(live, 'tower_live_socket_queued_max_bytes'))['']];
          return total !== undefined && total > 0 ? { total, largest } : undefined;
        },
        { what: 'bytes queued for the paused wall' },
      );
      expect(queued.largest).toBe(queued.total);
      socketOf(wall!).resume();

      // Shutdown: the sockets still open are closed with 1001.
      await live.closeGateway();
      expect(await metricOf(live, 'tower_live_closes_total')).toEqual({ 'client-closed': 1, 'protocol-error': 1, shutdown: 2 });
    } finally {
      await live.closeGateway();
      await live.app.close();
    }
  });

  test('a peer that does not answer pings is dropped by the heartbeat', async ({ logger, clickhouse, redis, kafka }) => {
    const live = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka }, { pingIntervalMs: 300 });
    await live.app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const silent = await connect(portOf(live));
      expect(live.connections()).toBe(1);
      (silent.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
      await eventually(async () => (live.connections() === 0 ? true : undefined), { what: 'the silent peer dropped' });
      expect((await live.app.inject({ url: '/metrics' })).body).toMatch(/tower_live_closes_total\{reason="unresponsive"\} 1/);
      (silent.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      expect((await silent.closed).code).toBe(1006);
    } finally {
      await live.closeGateway();
      await live.app.close();
    }
  });

  test('two instances side by side each read the tick topic as a broadcast and serve the same deltas to their own clients', async ({ kafka, logger, clickhouse, createTopic, redis }) => {
    await migrate(clickhouse.settings);
    const topic = await createTopic({ partitions: 1 });
    const instances = await Promise.all(
      ['one', 'two'].map(async (name) => {
        const hub = new LiveHub(`${name}-${uniqueName('epoch')}`, { resumeBufferDeltas: 100, idleStreamMs: 60_000, boardHorizonMs: 3_600_000 });
        const feed = tickFeed(kafka, topic, uniqueName(`live-${name}`), hub, logger);
        await feed.start();
        const live = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka, hub });
        await live.app.listen({ port: 0, host: '127.0.0.1' });
        return { feed, live };
      }),
    );
    try {
      await eventually(async () => (instances.every((i) => i.feed.ready) ? true : undefined), { timeoutMs: 30_000, what: 'both feeds in their groups' });
      const clients = await Promise.all(instances.map(async ({ live }) => connect(portOf(live))));
      for (const client of clients) client.send({ type: 'subscribe', id: 'zone', channel: 'throughput' });
      await Promise.all(clients.map((c) => c.next((m) => m.type === 'snapshot', 'snapshot')));
      const producer = createProducer(kafka);
      await producer.connect();
      const now = Math.floor(Date.now() / minute) * minute;
      const sent = [tick('bl2-smart-ex-1', now, 1), tick('bl2-smart-ex-2', now, 2), tick('vn-port-gate-ex-1', now, 3, 'van-ninh')];
      await producer.send([{ topic, messages: sent.map((t) => ({ key: `${t.site}/${t.lane}`, value: JSON.stringify(t) })) }]);
      await producer.disconnect();
      for (const client of clients) {
        await client.next((m) => m.type === 'delta' && m.seq === 3, 'three deltas');
        expect(client.messages.filter((m) => m.type === 'delta').map((m) => (m.data as ThroughputTick).events)).toEqual([1, 2, 3]);
        client.ws.close();
      }
    } finally {
      for (const { feed, live } of instances) {
        await live.closeGateway();
        await live.app.close();
        await feed.stop();
      }
    }
  });

  test('kpis and lanes: snapshot of the tiles and the lane grid, then the lanes that changed and the new tiles, as the history API reads them', async ({ logger, clickhouse, redis, kafka }) => {
    await migrate(clickhouse.settings);
    const live = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka });
    await live.app.listen({ port: 0, host: '127.0.0.1' });
    const client = await connect(portOf(live));
    try {
      client.send({ type: 'subscribe', id: 'tiles', channel: 'kpis', filter: { site: 'bac-luan-2' } });
      client.send({ type: 'subscribe', id: 'grid', channel: 'lanes', filter: { site: 'bac-luan-2' } });
      const tiles = (await client.next((m) => m.type === 'snapshot' && m.id === 'tiles', 'kpis snapshot')).data as KpisNow;
      expect(tiles).toMatchObject({ site: 'bac-luan-2', lanesTotal: 13, lanesOpen: 0, queueLength: 0 });
      const grid = (await client.next((m) => m.type === 'snapshot' && m.id === 'grid', 'lanes snapshot')).data as { lanes: LaneNow[] };
      expect(grid.lanes).toHaveLength(13);
      expect(new Set(grid.lanes.map((l) => l.status))).toEqual(new Set(['unknown']));

      const at = Date.now() - 5_000;
      const lane = (type: string, laneId: string, extra: object = {}) => ({ eventId: randomUUID(), type, site: laneId.startsWith('vn-') ? 'van-ninh' : 'bac-luan-2', lane: laneId, observedAt: at, source: 'test', ...extra }) as LaneEvent;
      await storeLaneEvents(new EventStore(clickhouse.client), [
        lane('lane.opened', 'bl2-smart-ex-1'),
        lane('lane.queue-sampled', 'bl2-smart-ex-1', { queueLength: 7 }),
        lane('lane.fault', 'bl2-smart-ex-2', { faultCode: 'ANPR-DOWN' }),
        lane('lane.opened', 'vn-port-gate-ex-1'),
      ]);
      live.hub.publishTick(tick('bl2-smart-ex-1', Math.floor(at / minute) * minute, 3), Date.now()); // new figures: the board reads again

      const opened = await client.next((m) => m.type === 'delta' && m.id === 'grid' && (m.data as LaneNow).lane === 'bl2-smart-ex-1', 'lane bl2-smart-ex-1 delta');
      expect(opened.data).toMatchObject({ status: 'open', queueLength: 7, statusSince: at });
      expect((await client.next((m) => m.type === 'delta' && m.id === 'grid' && (m.data as LaneNow).lane === 'bl2-smart-ex-2', 'fault delta')).data).toMatchObject({ status: 'fault' });
      const newTiles = await client.next((m) => m.type === 'delta' && m.id === 'tiles', 'kpis delta');
      expect(newTiles).toMatchObject({ seq: 1, data: { site: 'bac-luan-2', lanesOpen: 1, queueLength: 7 } });
      const gridDeltas = client.messages.filter((m) => m.type === 'delta' && m.id === 'grid');
      expect(gridDeltas.map((m) => (m.data as LaneNow).lane).sort()).toEqual(['bl2-smart-ex-1', 'bl2-smart-ex-2']); // only what changed, only this site
      expect(gridDeltas.map((m) => m.seq).sort()).toEqual([1, 2]);

      const response = await live.app.inject({ method: 'GET', url: '/v1/kpis/now?site=bac-luan-2', headers: withToken() });
      expect({ ...response.json<KpisNow>(), at: 0 }).toEqual({ ...(newTiles.data as KpisNow), at: 0 });
      client.send({ type: 'subscribe', id: 'bad', channel: 'lanes', filter: { site: 'van-ninh', lane: 'bl2-smart-ex-1' } });
      expect((await client.next((m) => m.type === 'error' && m.id === 'bad', 'error')).message).toBe('/filter/lane: belongs to site bac-luan-2, not van-ninh');
    } finally {
      client.ws.close();
      await live.closeGateway();
      await live.app.close();
    }
  });
});
