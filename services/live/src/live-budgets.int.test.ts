import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { describe, expect } from 'vitest';
import type WebSocket from 'ws';
import { loadConfig, pingClickHouse } from '@tower/shared';
import { test } from '@tower/shared/testing';
import { migrate } from '../../aggregator/src/test-support.ts';
import { gatewayLimitsOf, liveEnv } from './config.ts';
import { closeCodes, liveSubprotocol, type LiveChannel, type LiveFilter } from './domain/protocol.ts';
import { connectLiveClient, startLive, testTokens, type LiveMessage } from './test-support.ts';

/** The limits as a gateway started without any of their variables runs them. */
const defaults = gatewayLimitsOf(loadConfig(liveEnv, {}));
const floodFrames = 1000;
const runs = 5;
/**
 * Quiet snapshots here take 5–40 ms depending on what else the machine runs; below
 * this floor a ratio measures timer and scheduling noise, not the gateway.
 */
const quietFloorMs = 20;

/** The next message on `ws` that `predicate` takes (listened for directly: a poll would add its period to a latency). */
function nextMessage(ws: WebSocket, predicate: (m: LiveMessage) => boolean): Promise<LiveMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: WebSocket.RawData) => {
      const message = JSON.parse(data.toString()) as LiveMessage;
      if (!predicate(message)) return;
      ws.off('message', onMessage);
      resolve(message);
    };
    ws.on('message', onMessage);
    ws.once('close', () => reject(new Error('the socket closed before the message came')));
  });
}

/**
 * A client in a process of its own (as a real one would be: its sending costs the test
 * process nothing) that sends `frames` subscribes with the same id as fast as it can,
 * then waits for the gateway's answer to the last one or for the socket to close.
 */
function flood(port: number, token: string, channel: LiveChannel, frames: number) {
  const script = `
    const WebSocket = require('ws');
    const [url, channel, frames] = process.argv.slice(1);
    const ws = new WebSocket(url, [${JSON.stringify(liveSubprotocol)}]);
    ws.on('open', () => {
      const frame = JSON.stringify({ type: 'subscribe', id: 'flood', channel });
      for (let i = 0; i < Number(frames); i += 1) ws.send(frame);
      console.log('sent');
    });
    ws.on('message', (data) => {
      const message = JSON.parse(String(data));
      if (message.type === 'error') console.log('error ' + message.code);
      if (message.type === 'snapshot' && message.id === 'flood') { console.log('answered'); ws.close(); }
    });
    ws.on('close', (code) => { console.log('closed ' + code); process.exit(0); });
    ws.on('error', (error) => { console.log('failed ' + error.message); process.exit(1); });`;
  const url = `ws://127.0.0.1:${port}/v1/live?token=${encodeURIComponent(token)}`;
  const child = spawn(process.execPath, ['-e', script, url, channel, String(frames)], { cwd: import.meta.dirname, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let onSent: () => void = () => {};
  const sent = new Promise<void>((resolve) => (onSent = resolve));
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    if (line === 'sent') onSent();
  });
  const done = new Promise<string[]>((resolve) => child.once('exit', () => resolve(lines)));
  return { sent, done };
}

/** Snapshot reads by outcome, from the gateway's /metrics. */
async function snapshotReads(port: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Object.fromEntries([...text.matchAll(/^tower_live_snapshot_reads_total\{outcome="(\w+)"\} (\d+)$/gm)].map(([, outcome, n]) => [outcome!, Number(n)]));
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const cases: { channel: LiveChannel; flooder: keyof typeof testTokens; probeFilter: LiveFilter }[] = [
  { channel: 'slots', flooder: 'haiha', probeFilter: { site: 'bac-luan-2' } },
  { channel: 'throughput', flooder: 'display', probeFilter: { site: 'bac-luan-2' } },
];

describe('live gateway budgets: one socket flooding subscribes does not slow the others', () => {
  for (const { channel, flooder, probeFilter } of cases) {
    for (const rate of ['default', 'lifted'] as const) {
      test(
        rate === 'default'
          ? `${floodFrames} subscribes with one id on ${channel} (${flooder} token): an operator's snapshot within 3× its quiet latency, /readyz 200 throughout, the flooder warned then closed (4029)`
          : `${floodFrames} subscribes with one id on ${channel} (${flooder} token, message rate lifted): a few reads for the whole flood, /readyz 200 throughout`,
        { timeout: 180_000 },
        async ({ logger, clickhouse, redis, kafka }) => {
          await migrate(clickhouse.settings);
          // Lifted: every frame reaches the subscription logic (replacement, shared and abandoned reads, budgets).
          const limits = rate === 'default' ? defaults : { ...defaults, messageRate: { perSecond: 1e6, burst: 1e6, closeAfterRefused: 1e6 } };
          const live = await startLive(
            { logger, clickhouse: clickhouse.client, redis: redis.redis, kafka, readiness: [{ name: 'clickhouse', check: () => pingClickHouse(clickhouse.client) }] },
            { ...limits, maxSubscriptions: 8 },
          );
          await live.app.listen({ port: 0, host: '127.0.0.1' });
          const port = (live.app.server.address() as AddressInfo).port;
          const operator = await connectLiveClient(port, { token: testTokens.operator });
          let probes = 0;
          /** One snapshot of the operator's, in ms from subscribe to snapshot. */
          const probe = async () => {
            const id = `probe-${(probes += 1)}`;
            const answer = nextMessage(operator.ws, (m) => m.id === id);
            const started = performance.now();
            operator.send({ type: 'subscribe', id, channel, filter: probeFilter });
            const message = await answer;
            const elapsed = performance.now() - started;
            expect(message.type).toBe('snapshot');
            operator.send({ type: 'unsubscribe', id });
            return elapsed;
          };

          // /readyz polled from the first flood to the end of the last one.
          const readiness: number[] = [];
          let polling = true;
          const poller = (async () => {
            while (polling) {
              const response = await fetch(`http://127.0.0.1:${port}/readyz`);
              readiness.push(response.status);
              await response.arrayBuffer();
              await new Promise((resolve) => setTimeout(resolve, 50));
            }
          })();
          try {
            await probe(); // warm-up (first connections to ClickHouse)
            const quiet: number[] = [];
            const flooded: number[] = [];
            const floodEnds: string[] = [];
            for (let run = 0; run < runs; run += 1) {
              quiet.push(await probe());
              const { sent, done } = flood(port, testTokens[flooder], channel, floodFrames);
              await sent;
              flooded.push(await probe());
              const lines = await done;
              floodEnds.push(lines.filter((line) => line !== 'sent').join(' '));
              // Over the default rate: one error naming the limit, then closed; lifted: the last subscribe answered.
              if (rate === 'default') expect([lines.filter((line) => line.startsWith('error')), lines.at(-1)]).toEqual([['error rate-limited'], `closed ${closeCodes.messageRate}`]);
              else expect(lines).toContain('answered');
            }
            polling = false;
            await poller;
            const reads = await snapshotReads(port);
            console.log(
              `${channel} flood (${flooder}, rate ${rate}): operator snapshot quiet median ${median(quiet).toFixed(1)} ms [${quiet.map((v) => v.toFixed(0)).join(', ')}], flooded median ${median(flooded).toFixed(1)} ms [${flooded.map((v) => v.toFixed(0)).join(', ')}]; flood ended: ${floodEnds[0]}; snapshot reads ${JSON.stringify(reads)}; /readyz ${readiness.length} polls, ${readiness.filter((s) => s !== 200).length} not 200`,
            );
            expect(readiness.filter((status) => status !== 200)).toEqual([]);
            if (rate === 'default') {
              expect(median(flooded)).toBeLessThanOrEqual(3 * Math.max(median(quiet), quietFloorMs));
            } else {
              // Every frame parsed on the test's event loop makes latency here a measure of the machine's load, so
              // the work is counted instead: a repeated subscribe waits for the snapshot on its way, or replaces an
              // answered one (at most once per TCP read of the flood), never 1,000 reads.
              const probeReads = 1 + 2 * runs;
              expect(reads['read']! - probeReads).toBeLessThanOrEqual(runs * 10);
            }
          } finally {
            polling = false;
            await poller;
            operator.ws.close();
            await live.closeGateway();
            await live.app.close();
          }
        },
      );
    }
  }
});
