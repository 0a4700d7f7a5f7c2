import { describe, expect, it } from 'vitest';
import { prometheusName, renderServerFigures, type ServerFigure } from './exposition.ts';

const prometheusNameRule = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

describe('ClickHouse figures named as current ClickHouse names them', () => {
  it('prefixes each system table as the server does', () => {
    expect(prometheusName({ kind: 'metric', name: 'Query' })).toBe('ClickHouseMetrics_Query');
    expect(prometheusName({ kind: 'event', name: 'InsertedRows' })).toBe('ClickHouseProfileEvents_InsertedRows');
    expect(prometheusName({ kind: 'async', name: 'MaxPartCountForPartition' })).toBe('ClickHouseAsyncMetrics_MaxPartCountForPartition');
  });

  it('replaces characters outside the name rule with _ and drops what leaves nothing', () => {
    expect(prometheusName({ kind: 'async', name: 'jemalloc.allocated' })).toBe('ClickHouseAsyncMetrics_jemalloc_allocated');
    expect(prometheusName({ kind: 'async', name: 'CPUFrequencyMHz_0' })).toBe('ClickHouseAsyncMetrics_CPUFrequencyMHz_0');
    // Leading characters that are not letters go from a metric's or an event's own name; an asynchronous metric keeps them after its prefix.
    expect(prometheusName({ kind: 'event', name: '2xx-Ok é' })).toBe('ClickHouseProfileEvents_xx_Ok__');
    expect(prometheusName({ kind: 'async', name: '2xx' })).toBe('ClickHouseAsyncMetrics_2xx');
    expect(prometheusName({ kind: 'metric', name: '_1.' })).toBeUndefined();
    expect(prometheusName({ kind: 'metric', name: '' })).toBeUndefined();
    for (const name of ['a b', 'x:y', 'ÄÖ', 'Disk.Used-Bytes', '__0a', 'réplica']) {
      for (const kind of ['metric', 'event', 'async'] as const) {
        const full = prometheusName({ kind, name });
        if (full !== undefined) expect(full).toMatch(prometheusNameRule);
      }
    }
  });

  it('types gauges and counters, counters without _total (the server writes none), and escapes HELP', () => {
    const figures: ServerFigure[] = [
      { kind: 'metric', name: 'Query', value: 3, help: 'Number of executing queries' },
      { kind: 'event', name: 'FailedQuery', value: 12, help: 'Number of failed queries.\nSecond line \\ backslash' },
      { kind: 'async', name: 'jemalloc.allocated', value: 1.5e9, help: '' },
      { kind: 'async', name: 'Weird', value: Number.NaN, help: '' },
    ];
    expect(renderServerFigures(figures)).toBe(
      [
        '# HELP ClickHouseMetrics_Query Number of executing queries',
        '# TYPE ClickHouseMetrics_Query gauge',
        'ClickHouseMetrics_Query 3',
        '# HELP ClickHouseProfileEvents_FailedQuery Number of failed queries.\\nSecond line \\\\ backslash',
        '# TYPE ClickHouseProfileEvents_FailedQuery counter',
        'ClickHouseProfileEvents_FailedQuery 12',
        '# HELP ClickHouseAsyncMetrics_jemalloc_allocated ClickHouse asynchronous metric jemalloc.allocated',
        '# TYPE ClickHouseAsyncMetrics_jemalloc_allocated gauge',
        'ClickHouseAsyncMetrics_jemalloc_allocated 1500000000',
        '# HELP ClickHouseAsyncMetrics_Weird ClickHouse asynchronous metric Weird',
        '# TYPE ClickHouseAsyncMetrics_Weird gauge',
        'ClickHouseAsyncMetrics_Weird NaN',
        '',
      ].join('\n'),
    );
  });

  it('leaves out names that cannot be made valid and keeps one family where two names meet', () => {
    const text = renderServerFigures([
      { kind: 'async', name: 'a.b', value: 1, help: '' },
      { kind: 'async', name: 'a-b', value: 2, help: '' },
      { kind: 'metric', name: '...', value: 3, help: '' },
    ]);
    expect(text.match(/^# TYPE /gm)).toHaveLength(1);
    expect(text).toContain('ClickHouseAsyncMetrics_a_b 1\n');
    expect(renderServerFigures([])).toBe('');
  });
});
