import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { describe, expect } from 'vitest';
import { createProducer, type JourneyUpdate, type JourneyView, type TruckEvent } from '@tower/shared';
import { eventually, test, uniqueName } from '@tower/shared/testing';
import { createAggregatorTopics, eventMessages, migrate, startAggregator } from '../../aggregator/src/test-support.ts';
import { journeyFeed } from './gateway/broadcast-feed.ts';
import { LiveHub } from './gateway/hub.ts';
import { connectLiveClient, startLive, withToken } from './test-support.ts';

const plate = '14C-246.80';

function truckStep(type: TruckEvent['type'], observedAt: number, extra: Partial<TruckEvent> = {}): TruckEvent {
  return { eventId: randomUUID(), type, site: 'bac-luan-2', plate, plateCountry: 'VN', direction: 'export', cargoClass: 'farm-produce', observedAt, source: 'BL2-ANPR-01', ...extra } as TruckEvent;
}

describe('journeys channel: aggregator → tower.journeys.v1 → gateway → WebSocket', () => {
  test('a plate subscription gets its journey so far from ClickHouse, then each new step live, ending as the history API reads it; other sites see nothing of it', async ({ kafka, admin, logger, createTopic, clickhouse, redis }) => {
    await migrate(clickhouse.settings);
    const topics = await createAggregatorTopics(createTopic);
    const producer = createProducer(kafka);
    await producer.connect();
    const aggregator = await startAggregator({ kafka, admin, logger, clickhouse, topics });
    const hub = new LiveHub(uniqueName('journeys'), { resumeBufferDeltas: 100, idleStreamMs: 60_000, boardHorizonMs: 3_600_000 });
    const feed = journeyFeed(kafka, topics.journeys, uniqueName('journeys-feed'), hub, logger);
    await feed.start();
    const live = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka, hub });
    await live.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (live.app.server.address() as AddressInfo).port;
    try {
      const t0 = Date.now() - 20 * 60_000;
      // The first half of the crossing is stored before anyone subscribes.
      await producer.send(eventMessages(topics, [truckStep('truck.arrived', t0), truckStep('truck.queue-joined', t0 + 60_000, { lane: 'bl2-smart-ex-1' })]));
      const history = async () => (await live.app.inject({ url: `/v1/journeys/${encodeURIComponent(plate)}`, headers: withToken() })).json<{ journeys: JourneyView[] }>().journeys[0];
      await eventually(async () => ((await live.app.inject({ url: `/v1/journeys/${encodeURIComponent(plate)}`, headers: withToken() })).statusCode === 200 ? true : undefined), { timeoutMs: 20_000, what: 'the first steps stored' });
      await eventually(async () => (feed.ready ? true : undefined), { timeoutMs: 30_000, what: 'the journey feed in its group' });

      const truck = await connectLiveClient(port);
      const otherSite = await connectLiveClient(port);
      truck.send({ type: 'subscribe', id: 'truck', channel: 'journeys', filter: { plate } });
      otherSite.send({ type: 'subscribe', id: 'vn', channel: 'journeys', filter: { site: 'van-ninh' } });
      const snapshot = await truck.next((m) => m.type === 'snapshot', 'journeys snapshot');
      const [first] = (snapshot.data as { journeys: JourneyView[] }).journeys;
      expect(first).toEqual(await history());
      expect(first).toMatchObject({ plate, startedAt: t0, complete: false, steps: { arrived: t0, 'queue-joined': t0 + 60_000 } });
      await otherSite.next((m) => m.type === 'snapshot', 'van-ninh snapshot');

      // The rest of the crossing arrives: each stored step reaches the subscriber.
      await producer.send(eventMessages(topics, [truckStep('truck.plate-read', t0 + 120_000, { lane: 'bl2-smart-ex-1' })]));
      await truck.next((m) => m.type === 'delta' && (m.data as JourneyUpdate).steps['plate-read'] !== undefined, 'the plate read live');
      await producer.send(eventMessages(topics, [truckStep('truck.border-crossed', t0 + 130_000, { lane: 'bl2-smart-ex-1' }), truckStep('truck.gate-out', t0 + 134_000, { lane: 'bl2-smart-ex-1' })]));
      const done = await truck.next((m) => m.type === 'delta' && (m.data as JourneyUpdate).complete, 'the completed journey live');
      const { newestIngestedAt, publishedAt, ...completed } = done.data as JourneyUpdate;
      expect(completed).toMatchObject({ startedAt: t0, clearanceMs: 14_000, turnaroundMs: 70_000, lanes: ['bl2-smart-ex-1'] });
      expect(completed).toEqual(await history());
      expect(publishedAt).toBeGreaterThanOrEqual(newestIngestedAt);
      const seqs = truck.messages.filter((m) => m.type === 'delta').map((m) => m.seq);
      expect(seqs).toEqual(seqs.map((_, i) => (snapshot.seq ?? 0) + i + 1));
      expect(otherSite.messages.filter((m) => m.type === 'delta')).toEqual([]);
      truck.ws.close();
      otherSite.ws.close();
    } finally {
      await live.closeGateway();
      await live.app.close();
      await feed.stop();
      await aggregator.close();
      await producer.disconnect();
    }
  });
});
