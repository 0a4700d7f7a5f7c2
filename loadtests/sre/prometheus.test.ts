import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { ArtilleryPeriod } from './figures.ts';
import { exposition, servePrometheus, type LoadSnapshot } from './prometheus.ts';
import { parsePrometheus } from './server-metrics.ts';

const summary = (p50: number, p99: number, count: number) => ({ count, min: 1, max: p99, mean: p50, p50, p95: p99, p99 });
const period = (time: number, p99: number): ArtilleryPeriod => ({
  period: time,
  counters: { 'http.requests': 10, 'http.codes.200': 8, 'http.codes.503': 1, 'errors.ETIMEDOUT': 1, 'vusers.created': 10, 'vusers.skipped': 2, 'vusers.failed': 1, 'tower.events_sent': 500, 'tower.events_accepted': 400 },
  summaries: { 'plugins.metrics-by-endpoint.response_time.ingest': summary(10, p99, 9), 'plugins.metrics-by-endpoint.response_time.history-"kpis"': summary(20, 40, 1), 'tower.live_freshness_ms': summary(300, 900, 5) },
});
const running: LoadSnapshot = { scenario: 'peak', runId: 'ab12', periods: [period(0, 50), period(10_000, 250)] };
const value = (text: string, name: string, labels: Record<string, string> = {}) =>
  parsePrometheus(text).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

/** promtool's verdict on a text (lint too); fails the test (never skips) where promtool is not installed, as the rules' test does. */
function promtool(text: string): { status: number | null; output: string } {
  const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if ((check.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error('promtool is not installed: run `bash infra/local/bootstrap.sh --test` (it installs Debian’s prometheus, which ships promtool)');
  }
  return { status: check.status, output: `${check.stdout}${check.stderr}` };
}

describe('the load generator’s figures for Prometheus', () => {
  it('counts requests, answers by code, errors, dropped and failed arrivals and events over the run so far; quantiles of the latest period in seconds', () => {
    const text = exposition(running);
    expect(value(text, 'tower_load_running')).toBe(1);
    expect(value(text, 'tower_load_requests_total', { scenario: 'peak', run: 'ab12' })).toBe(20);
    expect(value(text, 'tower_load_responses_total', { code: '503' })).toBe(2);
    expect(value(text, 'tower_load_errors_total')).toBe(4);
    expect(value(text, 'tower_load_arrivals_dropped_total')).toBe(4);
    expect(value(text, 'tower_load_arrivals_failed_total')).toBe(2);
    expect(value(text, 'tower_load_events_accepted_total')).toBe(800);
    expect(value(text, 'tower_load_response_time_seconds', { path: 'ingest', quantile: '0.99' })).toBe(0.25);
    expect(value(text, 'tower_load_response_time_seconds_count', { path: 'ingest' })).toBe(18);
    expect(value(text, 'tower_load_response_time_seconds_sum', { path: 'ingest' })).toBeCloseTo(0.18);
    expect(value(text, 'tower_load_live_freshness_seconds', { quantile: '0.95' })).toBe(0.9);
    expect(value(text, 'tower_load_live_freshness_seconds', { quantile: '0.5' })).toBe(0.3);
    expect(text).toContain('path="history-\\"kpis\\""');
  });

  it('at the end: the whole run’s aggregate, not running any more', () => {
    const final = { ...period(0, 120), counters: { ...period(0, 0).counters, 'http.requests': 25 } };
    const text = exposition({ ...running, final });
    expect(value(text, 'tower_load_running')).toBe(0);
    expect(value(text, 'tower_load_requests_total')).toBe(25);
    expect(value(text, 'tower_load_response_time_seconds', { path: 'ingest', quantile: '0.99' })).toBe(0.12);
  });

  it('passes promtool check metrics (format and lint), running and final; promtool does refuse a broken text', () => {
    expect(promtool('tower_load_x_total 1\n# TYPE tower_load_x_total counter\n').status, 'a TYPE after its sample is refused').not.toBe(0);
    for (const text of [exposition(running), exposition({ ...running, final: period(0, 120) }), exposition({ scenario: 'smoke', runId: 'x', periods: [] })]) {
      const verdict = promtool(text);
      expect(verdict.output, text).toBe('');
      expect(verdict.status, text).toBe(0);
    }
  });

  it('serves /metrics while the run goes, each scrape the figures then', async () => {
    let snapshot: LoadSnapshot = { ...running, periods: running.periods.slice(0, 1) };
    const server = await servePrometheus(0, '127.0.0.1', () => snapshot);
    try {
      const scrape = async () => {
        const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
        expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
        return response.text();
      };
      expect(value(await scrape(), 'tower_load_requests_total')).toBe(10);
      snapshot = running;
      expect(value(await scrape(), 'tower_load_requests_total')).toBe(20);
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
