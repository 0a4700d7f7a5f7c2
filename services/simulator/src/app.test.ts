import { createLogger } from '@tower/shared';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import type { TrafficSimulation } from './domain/traffic.ts';
import { IngestSender } from './sender.ts';

describe('simulator /metrics', () => {
  it('exposes the events sent as a counter that grows with the sender’s count', async () => {
    const logger = createLogger({ service: 'simulator-test', level: 'silent' });
    // Never started: the simulation is not advanced and the sender never sends.
    const sender = new IngestSender('http://127.0.0.1:9/v1/events', new Map(), 100, logger);
    const { app } = await buildApp({
      logger,
      simulation: {} as TrafficSimulation,
      sender,
      metrics: new Registry(),
      readiness: [],
      settings: { profile: 'demo', seed: 1, rate: 1, tickMs: 1000, maxBuffered: 100 },
    });
    const scrape = async () => (await app.inject({ url: '/metrics' })).body;
    sender.stats.sent = 5;
    expect(await scrape()).toMatch(/^# TYPE tower_simulator_events_sent_total counter\ntower_simulator_events_sent_total 5$/m);
    sender.stats.sent = 12;
    expect(await scrape()).toMatch(/^tower_simulator_events_sent_total 12$/m);
    await app.close();
  });
});
