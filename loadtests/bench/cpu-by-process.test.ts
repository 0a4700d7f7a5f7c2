import { describe, expect, it } from 'vitest';
import { CpuTally, cpuSecondsByPart, partOf, ticksOf } from './cpu-by-process.ts';

describe('cpu-by-process', () => {
  it('names the part of the stack from a command line', () => {
    expect(partOf('node --import tsx /work/main/services/ingest/src/main.ts')).toBe('ingest');
    expect(partOf('/usr/bin/clickhouse-server --config-file=/work/main/.local/dev/clickhouse/config.xml')).toBe('ClickHouse');
    expect(partOf('java -Xmx1G -cp /work/main/.local/kafka/libs/* kafka.Kafka /work/main/.local/dev/kafka/server.properties')).toBe('Kafka');
    expect(partOf('/usr/bin/redis-server 127.0.0.1:6379')).toBe('Redis');
    expect(partOf('/usr/bin/prometheus-redis-exporter --redis.addr=127.0.0.1:6379')).toBe('Redis exporter');
    expect(partOf('/usr/bin/prometheus --config.file=x.yml')).toBe('Prometheus');
    expect(partOf('node /work/main/loadtests/kit/node_modules/.bin/artillery run x.json')).toBe('load generator');
    expect(partOf('bash')).toBe('other');
  });

  it('reads utime + stime from a stat line whose command name holds spaces and parentheses', () => {
    const line = '4242 (node (worker) x) S 1 4242 4242 0 -1 4194304 100 0 0 0 1234 56 0 0 20 0 11 0 500 1000 100 0';
    expect(ticksOf(line)).toBe(1290);
  });

  it('counts CPU seconds per part between two samples, a new process from zero, an ended one left out', () => {
    const before = [
      { pid: 1, part: 'ingest', ticks: 100 },
      { pid: 2, part: 'ClickHouse', ticks: 1000 },
      { pid: 3, part: 'Kafka', ticks: 50 },
    ];
    const after = [
      { pid: 1, part: 'ingest', ticks: 350 },
      { pid: 2, part: 'ClickHouse', ticks: 1100 },
      { pid: 4, part: 'ingest', ticks: 30 },
    ];
    expect(Object.fromEntries(cpuSecondsByPart(before, after, 100))).toEqual({ ingest: 2.8, ClickHouse: 1 });
  });

  it('keeps the CPU of a process that ended before the last sample, and each part’s busiest interval', () => {
    const tally = new CpuTally(100);
    const first = [
      { pid: 1, part: 'ingest', ticks: 0 },
      { pid: 9, part: 'load generator', ticks: 0 },
    ];
    const second = [
      { pid: 1, part: 'ingest', ticks: 100 },
      { pid: 9, part: 'load generator', ticks: 1500 },
    ];
    // The load generator has ended by the third sample.
    const third = [{ pid: 1, part: 'ingest', ticks: 1100 }];
    tally.add(first, second, 10);
    tally.add(second, third, 10);
    expect(Object.fromEntries(tally.overall)).toEqual({ ingest: 11, 'load generator': 15 });
    expect(Object.fromEntries(tally.busiest)).toEqual({ ingest: 1, 'load generator': 1.5 });
    expect(tally.total).toBe(26);
  });
});
