/** Drill 1 in the suite: a 3-node Kafka loses the busiest leader, then a second broker, under the ingest stream (test/drills/kafka-leader-loss.ts). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { test } from '@tower/shared/testing';
import { portIsOpen } from '../../infra/local/supervisor.ts';
import { describeVerdict } from './drill.ts';
import { kafkaLeaderLoss } from './kafka-leader-loss.ts';

/** The drill's own ports: brokers, controllers, JMX agents, Redis, ingest, aggregator. */
const drillPorts = Array.from({ length: 12 }, (_, i) => 27480 + i);

describe('drill kafka-leader-loss (real servers, a 3-node cluster of its own, services as processes)', () => {
  test(kafkaLeaderLoss.summary, { timeout: 600_000 }, async ({ infra, logger }) => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-kafka-leader-loss-'));
    try {
      const verdict = await kafkaLeaderLoss.run({ infra, logger, progress: (line) => process.stdout.write(`[kafka-leader-loss] ${line}\n`), workDir });
      process.stdout.write(`${describeVerdict(verdict)}\n`);
      expect(verdict.findings).toEqual([]);
      expect(verdict.figures['acknowledged but not stored (lost)']).toBe(0);
      expect(verdict.figures['stored more than once']).toBe(0);
      expect(verdict.figures['2xx while fewer than 2 in sync']).toBe(0);
      expect(verdict.figures['lag at the end (messages, all groups)']).toBe(0);
      expect(verdict.figures['events acknowledged (2xx)']).toBeGreaterThan(0);
      expect(verdict.passed).toBe(true);
      for (const port of drillPorts) expect(await portIsOpen(port), `port ${port} after the drill`).toBe(false);
    } finally {
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  });

  test('a failure while setting up stops the cluster and Redis it started (no port left bound)', { timeout: 300_000 }, async ({ infra, logger }) => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-kafka-leader-loss-'));
    try {
      // The cluster and Redis start with the right logins; the drill's ClickHouse client, with a wrong password, fails at CREATE DATABASE.
      const refused = { ...infra, CLICKHOUSE_PASSWORD: `${infra.CLICKHOUSE_PASSWORD}-wrong` };
      await expect(kafkaLeaderLoss.run({ infra: refused, logger, progress: (line) => logger.info(line), workDir })).rejects.toThrow();
      for (const port of drillPorts) expect(await portIsOpen(port), `port ${port} after the failed set-up`).toBe(false);
    } finally {
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  });
});
