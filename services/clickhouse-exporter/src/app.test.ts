import { describe, expect, it } from 'vitest';
import { createLogger } from '@tower/shared';
import { buildApp } from './app.ts';
import type { ClickHouseReader, ClickHouseReading, TableFigures } from './reader.ts';
import { readCountSeries, sampleValue as sample, tableSeries, upSeries } from './test-support.ts';

const logger = createLogger({ service: 'test', level: 'silent' });

const table = (name: string, parts: number): TableFigures => ({ database: 'tower', table: name, parts, rows: parts * 10, bytes: parts * 1000, maxPartsPerPartition: parts, mergesRunning: 1, mutationsPending: 0 });

/** A reader whose reads the test answers (or fails) one by one, counting them. */
class FakeReader implements ClickHouseReader {
  reads = 0;
  /** The budget each read was given. */
  readonly budgets: (number | undefined)[] = [];
  private pending: { resolve: (reading: ClickHouseReading) => void; reject: (error: Error) => void }[] = [];

  read(budgetMs?: number): Promise<ClickHouseReading> {
    this.reads += 1;
    this.budgets.push(budgetMs);
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }

  answer(reading: ClickHouseReading): void {
    for (const read of this.pending.splice(0)) read.resolve(reading);
  }

  fail(error: Error): void {
    for (const read of this.pending.splice(0)) read.reject(error);
  }

  async whenReading(): Promise<void> {
    while (this.pending.length === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

const reading: ClickHouseReading = {
  server: [
    { kind: 'metric', name: 'Query', value: 1, help: 'Number of executing queries' },
    { kind: 'event', name: 'InsertedRows', value: 42, help: 'Number of rows INSERTed to all tables.' },
  ],
  tables: [table('truck_events', 7), table('throughput_1m', 3)],
};

/** One scrape whose read the fake answers with `outcome` (or fails with it). */
async function scrapeAnswered(app: ReturnType<typeof buildApp>['app'], reader: FakeReader, outcome: ClickHouseReading | Error, headers: Record<string, string> = {}) {
  const response = app.inject({ url: '/metrics', headers });
  await reader.whenReading();
  if (outcome instanceof Error) reader.fail(outcome);
  else reader.answer(outcome);
  return response;
}

describe('clickhouse-exporter /metrics with a fake reader', () => {
  it('serves the server figures, the tables and up 1 after an answered read, and its own process metrics', async () => {
    const reader = new FakeReader();
    const { app } = buildApp({ logger, reader });
    const response = await scrapeAnswered(app, reader, reading);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = response.body;
    expect(sample(text, upSeries)).toBe(1);
    expect(sample(text, tableSeries('tower_clickhouse_table_parts', 'tower', 'truck_events'))).toBe(7);
    expect(sample(text, tableSeries('tower_clickhouse_table_rows', 'tower', 'throughput_1m'))).toBe(30);
    expect(sample(text, tableSeries('tower_clickhouse_table_bytes', 'tower', 'truck_events'))).toBe(7000);
    expect(sample(text, tableSeries('tower_clickhouse_max_part_count_for_partition', 'tower', 'truck_events'))).toBe(7);
    expect(sample(text, tableSeries('tower_clickhouse_merges_running', 'tower', 'truck_events'))).toBe(1);
    expect(sample(text, tableSeries('tower_clickhouse_mutations_pending', 'tower', 'truck_events'))).toBe(0);
    expect(sample(text, readCountSeries)).toBe(1);
    expect(text).toMatch(/^# TYPE ClickHouseMetrics_Query gauge\nClickHouseMetrics_Query 1$/m);
    expect(text).toMatch(/^# TYPE ClickHouseProfileEvents_InsertedRows counter\nClickHouseProfileEvents_InsertedRows 42$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total\{service="clickhouse-exporter"\} /m);
    // Every family once: a repeated TYPE line would fail Prometheus's whole scrape.
    const types = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
    expect(new Set(types).size).toBe(types.length);
    await app.close();
  });

  it('shares one read between scrapes that arrive while it is under way', async () => {
    const reader = new FakeReader();
    const { app } = buildApp({ logger, reader });
    const scrapes = [app.inject({ url: '/metrics' }), app.inject({ url: '/metrics' }), app.inject({ url: '/metrics' })];
    await reader.whenReading();
    // Every scrape has reached the read before it answers.
    for (let turn = 0; turn < 20; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    reader.answer(reading);
    const responses = await Promise.all(scrapes);
    expect(reader.reads).toBe(1);
    for (const response of responses) expect(sample(response.body, tableSeries('tower_clickhouse_table_parts', 'tower', 'truck_events'))).toBe(7);
    // The next scrape reads again.
    const text = (await scrapeAnswered(app, reader, { server: [], tables: [table('truck_events', 2)] })).body;
    expect(reader.reads).toBe(2);
    expect(sample(text, tableSeries('tower_clickhouse_table_parts', 'tower', 'truck_events'))).toBe(2);
    // A table no longer read is no longer shown.
    expect(text).not.toContain('table="throughput_1m"');
    await app.close();
  });

  it('while ClickHouse does not answer: 200 with up 0, no table or server figures, and ready', async () => {
    const reader = new FakeReader();
    const { app } = buildApp({ logger, reader });
    await scrapeAnswered(app, reader, reading);
    const response = await scrapeAnswered(app, reader, new Error('connect ECONNREFUSED 127.0.0.1:8123'));
    expect(response.statusCode).toBe(200);
    expect(sample(response.body, upSeries)).toBe(0);
    expect(response.body).not.toContain('tower_clickhouse_table_parts{');
    expect(response.body).not.toContain('ClickHouseMetrics_');
    expect(sample(response.body, readCountSeries)).toBe(2);
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    await app.close();
  });

  it("reads ClickHouse within the scrape's own timeout (Prometheus's header) less a margin, so a slow ClickHouse is up 0 before the scrape fails", async () => {
    const reader = new FakeReader();
    const { app } = buildApp({ logger, reader });
    for (const seconds of ['5', '15', '0.5']) await scrapeAnswered(app, reader, reading, { 'x-prometheus-scrape-timeout-seconds': seconds });
    await scrapeAnswered(app, reader, reading);
    // 5 s (the test profile's scrape timeout, as its interval) leaves 4.5 s; 15 s leaves 13.5 s; never under 1 s; no header, no budget of its own.
    expect(reader.budgets).toEqual([4500, 13_500, 1000, undefined]);
    await app.close();
  });

  it("a client asking for a short read cannot make Prometheus's scrape report ClickHouse down: the scrape does not share a read that gave up before its own deadline", async () => {
    const reader = new FakeReader();
    const { app } = buildApp({ logger, reader });
    // Any client (curl, a second Prometheus) sends a tiny scrape timeout; ClickHouse is slow to answer it.
    const hasty = app.inject({ url: '/metrics', headers: { 'x-prometheus-scrape-timeout-seconds': '0.05' } });
    await reader.whenReading();
    // Prometheus's scrape (5 s) arrives while that read is under way.
    const scrape = app.inject({ url: '/metrics', headers: { 'x-prometheus-scrape-timeout-seconds': '5' } });
    let scrapeAnswered = false;
    void scrape.then(() => (scrapeAnswered = true));
    for (let turn = 0; turn < 20; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    reader.fail(new Error('ClickHouse did not answer within the scrape\'s 1000 ms'));
    expect(sample((await hasty).body, upSeries)).toBe(0);
    // The scrape reads again within what is left of its own budget (it does not answer with the hasty read's failure), and ClickHouse answers it.
    while (reader.reads < 2 && !scrapeAnswered) await new Promise((resolve) => setImmediate(resolve));
    expect(reader.reads).toBe(2);
    await reader.whenReading();
    reader.answer(reading);
    const text = (await scrape).body;
    expect(sample(text, upSeries)).toBe(1);
    expect(sample(text, tableSeries('tower_clickhouse_table_parts', 'tower', 'truck_events'))).toBe(7);
    expect(reader.reads).toBe(2);
    expect(reader.budgets[0]).toBe(1000);
    expect(reader.budgets[1]).toBeGreaterThan(1000);
    expect(reader.budgets[1]).toBeLessThanOrEqual(4500);
    // A read that was allowed as long as the scrape is shared, failure included.
    const first = app.inject({ url: '/metrics', headers: { 'x-prometheus-scrape-timeout-seconds': '5' } });
    await reader.whenReading();
    const second = app.inject({ url: '/metrics', headers: { 'x-prometheus-scrape-timeout-seconds': '0.05' } });
    for (let turn = 0; turn < 20; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    reader.fail(new Error('connect ECONNREFUSED 127.0.0.1:8123'));
    for (const response of await Promise.all([first, second])) expect(sample(response.body, upSeries)).toBe(0);
    expect(reader.reads).toBe(3);
    await app.close();
  });
});
