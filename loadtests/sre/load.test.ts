import fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '@tower/shared/testing';
import { breakSoFar, combine, findBreak, periodGraceMs, figuresOf as runFigures, verdicts, type ArtilleryPeriod } from './figures.ts';
import { reportHtml, summaryMarkdown, type RunRecord } from './report.ts';
import { figuresOf, MetricsSampler, parsePrometheus, serverFigures } from './server-metrics.ts';
import { targetOf, TargetError } from './target.ts';

const credentials = { devices: [{ id: 'bl2-gw-1', site: 'bac-luan-2', apiKey: 'bl2-gw-1.secret' }], access: [{ id: 'wall-1', role: 'display', token: 'wall-1.t' }] };
const staging = { name: 'staging', ingest: 'https://ingest.staging.example/', live: 'https://ops.staging.example', slots: 'https://slots.staging.example', credentials };

describe('target files', () => {
  it('takes a deployment’s URLs (trailing slash dropped) and says the generator runs elsewhere when no URL is loopback', () => {
    const target = targetOf(staging, 'staging.json', '/');
    expect(target).toMatchObject({ ingest: 'https://ingest.staging.example', sharesMachine: false, metrics: {} });
    expect(target.clickhouse).toBeUndefined();
    expect(targetOf({ ...staging, ingest: 'http://127.0.0.1:8081', live: 'http://localhost:8080', slots: 'http://127.0.0.1:8082' }, 't', '/').sharesMachine).toBe(true);
  });

  it.each([
    [{ ...staging, slots: undefined }, /staging\.json: \/slots /],
    [{ ...staging, ingest: 'ingest.staging.example' }, /\/ingest /],
    [{ ...staging, extra: 1 }, /\/extra /],
    [{ ...staging, credentialsFile: 'c.json' }, /exactly one of credentials and credentialsFile/],
    [{ ...staging, credentials: { devices: [{ id: 'x', site: 's' }], access: [] } }, /\/credentials\/devices\/0\/apiKey Expected required property/],
    [{ ...staging, clickhouse: { url: 'http://ch:8123', user: 'tower_reader' } }, /\/clickhouse give exactly one of password and passwordFile/],
  ])('refuses a bad target naming the field (%#)', (document, says) => {
    expect(() => targetOf(document, 'staging.json', '/')).toThrow(TargetError);
    expect(() => targetOf(document, 'staging.json', '/')).toThrow(says);
  });

  it('reads credentials and the ClickHouse password from files relative to the target', () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'target-'));
    fs.writeFileSync(path.join(directory, 'keys.json'), JSON.stringify(credentials));
    fs.writeFileSync(path.join(directory, 'infra.json'), JSON.stringify({ clickhouse: { tower_reader: 'pw' } }));
    const { credentials: _, ...rest } = staging;
    const target = targetOf({ ...rest, credentialsFile: 'keys.json', clickhouse: { url: 'http://ch:8123', user: 'tower_reader', passwordFile: 'infra.json#clickhouse.tower_reader' } }, 't', directory);
    expect(target.credentials.devices[0]?.apiKey).toBe('bl2-gw-1.secret');
    expect(target.clickhouse).toEqual({ url: 'http://ch:8123', user: 'tower_reader', password: 'pw', database: 'tower' });
    fs.rmSync(directory, { recursive: true });
  });
});

describe('server-side figures from /metrics', () => {
  const exposition = (ackCount: number, ackSum: number) => `# HELP x
nodejs_eventloop_lag_p99_seconds{service="ingest"} 0.012
process_resident_memory_bytes{service="ingest"} 104857600
tower_consumer_lag_messages{service="aggregator",group="tower-aggregator",topic="tower.trucks.v1",partition="0"} 3
tower_consumer_lag_messages{service="aggregator",group="tower-aggregator",topic="tower.trucks.v1",partition="1"} 4
tower_ingest_kafka_ack_seconds_bucket{le="+Inf"} ${ackCount}
tower_ingest_kafka_ack_seconds_sum ${ackSum}
tower_ingest_kafka_ack_seconds_count ${ackCount}
odd_metric NaN
`;

  it('parses names, labels (escaped quotes too) and values, skipping comments and NaN', () => {
    const samples = parsePrometheus(`a_total{x="say \\"hi\\"",y="2"} 5\n# comment\nb 1e3\nc NaN\n`);
    expect(samples).toEqual([
      { name: 'a_total', labels: { x: 'say \\"hi\\"', y: '2' }, value: 5 },
      { name: 'b', labels: {}, value: 1000 },
    ]);
  });

  it('reduces a read to lag, memory and consumer lag summed over partitions, and the mean ack time of the interval', () => {
    const first = figuresOf(exposition(10, 0.5));
    expect(first).toMatchObject({ eventLoopLagP99Ms: 12, rssMiB: 100, consumerLag: 7, kafkaAckCount: 10 });
    expect(first['kafkaAckMeanMs']).toBeUndefined();
    const second = figuresOf(exposition(30, 1.5), first);
    expect(second['kafkaAckMeanMs']).toBeCloseTo(50);
  });

  describe('over several instances of a service, as a sampler reads them', () => {
    const servers: Server[] = [];
    afterEach(async () => {
      await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
    });
    /** A /metrics on 127.0.0.1 answering what `body()` says at each read; its URL. */
    const endpoint = async (body: () => string): Promise<string> => {
      const server = createServer((_, response) => response.end(body()));
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    };
    const lag = (service: string, group: string, partition: number, messages: number) =>
      `tower_consumer_lag_messages{service="${service}",group="${group}",topic="tower.t",partition="${partition}"} ${messages}\n`;

    it('takes each partition\'s lag at its worst instance, not once per instance; sums live sockets over roles', { timeout: 60_000 }, async () => {
      // Two aggregators report every partition of their group (the committed offsets); each live gateway reads the whole
      // topic under the feed's one name. A first round, then the final one at the stop.
      let behind = { committed: [30, 70], live1: 5, live2: 8 };
      const aggregator = () => behind.committed.map((messages, partition) => lag('aggregator', 'tower-aggregator', partition, messages)).join('');
      const sampler = new MetricsSampler({
        'aggregator-1': await endpoint(aggregator),
        'aggregator-2': await endpoint(aggregator),
        'live-1': await endpoint(() => `${lag('live', 'tower-live-ticks', 0, behind.live1)}${lag('live', 'tower-live-ticks', 1, 0)}`
          + 'tower_live_connections{service="live",role="display"} 3\ntower_live_connections{service="live",role="firm"} 2\ntower_live_queued_bytes{service="live"} 2048\n'),
        'live-2': await endpoint(() => `${lag('live', 'tower-live-ticks', 0, 0)}${lag('live', 'tower-live-ticks', 1, behind.live2)}`),
      }, 600_000);
      sampler.start();
      await eventually(async () => (sampler.series.every((s) => s.samples.length === 1) ? true : undefined), { timeoutMs: 30_000, what: 'the first round of reads' });
      behind = { committed: [10, 0], live1: 0, live2: 2 };
      const series = await sampler.stop();
      expect(series.map((s) => [s.service, s.failures, s.samples.length])).toEqual([['aggregator-1', 0, 2], ['aggregator-2', 0, 2], ['live-1', 0, 2], ['live-2', 0, 2]]);
      // Each instance's own course: its partitions summed.
      expect(series.map((s) => s.samples.map((sample) => sample.figures['consumerLag']))).toEqual([[100, 10], [100, 10], [5, 0], [8, 2]]);
      expect(series[2]?.samples[0]?.figures).toMatchObject({ liveConnections: 5, liveQueuedKiB: 2 });
      // The run's: 100 (30 + 70, once) + 13 (5 on one partition, 8 on the other) at the first round, 12 at the end.
      expect(serverFigures(series)).toMatchObject({ 'server.consumer_lag_max': 113, 'server.consumer_lag_end': 12 });
    });
  });
});

describe('figures and verdicts', () => {
  const period = (counters: Record<string, number>, p99: number): ArtilleryPeriod => ({
    counters,
    summaries: { 'plugins.metrics-by-endpoint.response_time.ingest': { count: 1, min: 1, max: p99, mean: 1, p50: 1, p95: p99, p99 } },
  });

  it('sums counters over parts, keeps the worst part’s percentiles, and counts non-2xx and errors in the error rate', () => {
    const aggregate = combine([
      period({ 'http.requests': 90, 'http.responses': 90, 'http.codes.200': 89, 'http.codes.503': 1 }, 40),
      period({ 'http.requests': 10, 'http.responses': 9, 'http.codes.201': 9, 'errors.ETIMEDOUT': 1 }, 250),
    ]);
    const figures = runFigures(aggregate, { accepted: 100, stored: { rows: 98, distinct: 98 }, overbookedWindows: 0, places: null });
    expect(figures).toMatchObject({ 'http.requests': 100, 'http.error_rate_percent': 2, 'http.server_error_rate_percent': 2, 'ingest.p99_ms': 250, 'correctness.events_missing': 2, 'correctness.events_duplicated': 0 });
  });

  it('counts an event stored twice as duplicated, and a duplicate does not hide a missing event', () => {
    const figures = runFigures(period({ 'http.requests': 10, 'http.responses': 10, 'http.codes.200': 10 }, 10), { accepted: 100, stored: { rows: 100, distinct: 99 }, overbookedWindows: null, places: null });
    expect(figures).toMatchObject({ 'events.stored': 99, 'correctness.events_missing': 1, 'correctness.events_duplicated': 1 });
  });

  it('counts no error for requests still in flight at the end of a period', () => {
    const figures = runFigures(period({ 'http.requests': 100, 'http.responses': 60, 'http.codes.200': 60 }, 10), { accepted: 0, stored: null, overbookedWindows: null, places: null });
    expect(figures['http.error_rate_percent']).toBe(0);
  });

  it('finds where a ramp broke: the first of two periods in a row over a bound (parts of the same period merged), and the highest rate sent; one period over is a hiccup', () => {
    const at = (time: number, sent: number, p99: number, codes: Record<string, number>): ArtilleryPeriod => ({ ...period({ 'tower.events_sent': sent, ...codes }, p99), period: time });
    const ok = (n: number) => ({ 'http.responses': n, 'http.codes.200': n });
    const devices = [at(0, 1000, 50, ok(10)), at(10_000, 5000, 250, ok(50)), at(20_000, 9000, 150, ok(90)), at(30_000, 10_000, 900, ok(100)), at(40_000, 12_000, 700, ok(1))];
    const walls = [at(10_000, 0, 0, { 'http.responses': 1, 'http.codes.500': 1 }), at(20_000, 0, 0, { 'http.responses': 1, 'http.codes.500': 1 })];
    expect(findBreak({ devices }, { 'ingest.p99_ms': 200, 'correctness.events_missing': 0 })).toEqual({ broke: { atSeconds: 30, eventsPerSecond: 1000, figure: 'ingest.p99_ms', value: 900, max: 200 }, peakEventsPerSecond: 1200 });
    expect(findBreak({ devices, walls }, { 'ingest.p99_ms': 200, 'http.error_rate_percent': 0.1 }).broke).toMatchObject({ atSeconds: 10, figure: 'ingest.p99_ms', value: 250 });
    expect(findBreak({ devices, walls }, { 'http.error_rate_percent': 0.1 }).broke).toMatchObject({ atSeconds: 10, figure: 'http.error_rate_percent' });
    expect(findBreak({ devices: devices.slice(0, 4) }, { 'ingest.p99_ms': 200 })).toEqual({ peakEventsPerSecond: 1000 });
    expect(findBreak({ devices }, { 'ingest.p99_ms': 1000 })).toEqual({ peakEventsPerSecond: 1200 });
  });

  it('stops a running ramp at a break once every running part has reported its periods, or their grace is over', () => {
    const at = (time: number, p99: number, codes: Record<string, number> = { 'http.responses': 10, 'http.codes.200': 10 }): ArtilleryPeriod => ({ ...period({ 'tower.events_sent': 100, ...codes }, p99), period: time });
    const slos = { 'ingest.p99_ms': 200, 'http.error_rate_percent': 0.1, 'correctness.events_missing': 0 };
    const devices = [at(0, 50), at(10_000, 900), at(20_000, 800)];
    const none = new Set<string>();
    expect(breakSoFar({ devices }, none, slos, 30_000)).toMatchObject({ figure: 'ingest.p99_ms', atSeconds: 10, value: 900 });
    expect(breakSoFar({ devices: devices.slice(0, 2) }, none, slos, 30_000)).toBeUndefined();
    // The firms have reported only the first period: the others wait for them, or for their grace.
    const firms = [at(0, 0)];
    expect(breakSoFar({ devices, firms }, none, slos, 30_000)).toBeUndefined();
    expect(breakSoFar({ devices, firms }, none, slos, 30_000 + periodGraceMs)).toMatchObject({ figure: 'ingest.p99_ms' });
    expect(breakSoFar({ devices, firms }, new Set(['firms']), slos, 30_000)).toMatchObject({ figure: 'ingest.p99_ms' });
    // Nothing reported yet by a running part: not complete either.
    expect(breakSoFar({ devices, walls: [] }, none, slos, 30_000)).toBeUndefined();
    // Errors that arrive with another part's answers break too.
    const calm = [at(0, 50), at(10_000, 50), at(20_000, 50)];
    const failing = [at(10_000, 0, { 'http.responses': 1, 'http.codes.500': 1 }), at(20_000, 0, { 'http.responses': 1, 'http.codes.500': 1 })];
    expect(breakSoFar({ devices: calm, firms: failing }, none, slos, 30_000)).toMatchObject({ figure: 'http.error_rate_percent', atSeconds: 10 });
    expect(breakSoFar({ devices: [at(0, 50), at(10_000, 199), at(20_000, 200)] }, none, slos, 60_000)).toBeUndefined();
  });

  it('fails an SLO over its bound or not measured, passes one at its bound', () => {
    expect(verdicts({ a: 200, b: 201, c: null }, { a: 200, b: 200, c: 0, d: 0 }).map((v) => v.pass)).toEqual([true, false, false, false]);
  });
});

describe('the report', () => {
  const record: RunRecord = {
    scenario: 'smoke',
    purpose: 'p',
    shape: 's',
    command: 'npm run load -- smoke',
    target: { name: '<b>staging</b>', source: 'staging.json', ingest: 'https://i', live: 'https://l', slots: 'https://s' },
    sharesMachine: true,
    machine: 'm',
    startedAt: 0,
    endedAt: 60_000,
    figures: { 'ingest.p99_ms': 250 },
    verdicts: [{ figure: 'ingest.p99_ms', max: 200, value: 250, pass: false }],
    periods: { smoke: [{ firstMetricAt: 10_000, counters: { 'http.requests': 5 }, summaries: {} }] },
    servers: [{ service: 'ingest', url: 'u', failures: 0, samples: [{ at: 5000, round: 0, figures: { rssMiB: 100 } }, { at: 10_000, round: 1, figures: { rssMiB: 140 } }] }],
    notes: [],
  };

  it('names the failed SLO, says the generator shares the machine, and shows the course of each server figure', () => {
    const summary = summaryMarkdown(record);
    expect(summary).toMatch(/^# Load test `smoke`: FAIL \(ingest\.p99_ms\)/);
    expect(summary).toContain('| ingest.p99_ms | 250 | ≤ 200 | **FAIL** |');
    expect(summary).toContain('shares the machine');
    expect(summary).toContain('| ingest | — | 100 / 140 / 140 |');
  });

  it('is one self-contained HTML file: inline SVG, no script, no outside resource, names escaped', () => {
    const html = reportHtml(record);
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|src=|href=/);
    expect(html).toContain('&lt;b&gt;staging&lt;/b&gt;');
  });
});
