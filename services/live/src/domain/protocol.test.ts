import { describe, expect, it } from 'vitest';
import { emptyMeasures, type ThroughputTick } from '@tower/shared';
import { ProtocolError, deltaFrame, parseClientMessage, type ChannelData } from './protocol.ts';
import { StreamLog, ThroughputBoard, channelRules, streamKey, tickMatches } from './streams.ts';

const tick = (lane: string, windowStart: number, publishedAt = 1): ThroughputTick => ({
  site: 'bac-luan-2', lane, direction: 'export', laneKind: 'smart', windowStart, windowEnd: windowStart + 60_000, final: false, correction: false,
  ...emptyMeasures, events: 3, newestIngestedAt: 1, publishedAt,
});

describe('client messages', () => {
  it('accepts subscribe and unsubscribe, and names the field of anything else', () => {
    expect(parseClientMessage('{"type":"subscribe","id":"a","channel":"throughput","filter":{"site":"van-ninh"}}')).toMatchObject({ id: 'a' });
    expect(parseClientMessage('{"type":"unsubscribe","id":"a"}')).toEqual({ type: 'unsubscribe', id: 'a' });
    const failure = (text: string) => {
      try {
        parseClientMessage(text);
      } catch (error) {
        return error as ProtocolError;
      }
      throw new Error('accepted');
    };
    expect(failure('{')).toMatchObject({ code: 'not-json' });
    expect(failure('{"type":"subscribe","id":"a","channel":"throughput","filter":{"sites":"x"}}')).toMatchObject({ code: 'invalid-message', subscription: 'a', message: expect.stringContaining('/filter') });
    expect(failure('{"type":"subscribe","id":"has space","channel":"throughput"}').message).toContain('/id');
    expect(failure('{"type":"hello"}').message).toContain('/type');
    expect(failure('{"type":"subscribe","id":"a","channel":"weather"}').message).toBe('/channel: must be one of throughput, kpis, lanes, alerts, journeys, slots, bookings, conditions');
  });

  it("judges a filter by its channel's schema", () => {
    expect(parseClientMessage('{"type":"subscribe","id":"k","channel":"kpis","filter":{"site":"van-ninh"}}')).toMatchObject({ channel: 'kpis' });
    expect(parseClientMessage('{"type":"subscribe","id":"l","channel":"lanes","filter":{"lane":"bl2-smart-ex-1"}}')).toMatchObject({ channel: 'lanes' });
    expect(() => parseClientMessage('{"type":"subscribe","id":"k","channel":"kpis","filter":{"kind":"smart"}}')).toThrow(/\/filter/);
    expect(() => parseClientMessage('{"type":"subscribe","id":"l","channel":"lanes","filter":{"kind":"smart"}}')).toThrow(/\/filter/);
    expect(parseClientMessage('{"type":"subscribe","id":"j","channel":"journeys","filter":{"plate":"14C-123.45"}}')).toMatchObject({ channel: 'journeys' });
    expect(() => parseClientMessage('{"type":"subscribe","id":"j","channel":"journeys","filter":{"lane":"bl2-smart-ex-1"}}')).toThrow(/\/filter/);
    expect(() => parseClientMessage('{"type":"subscribe","id":"j","channel":"journeys","filter":{"plate":"x"}}')).toThrow(/\/filter\/plate/);
  });

  it('builds delta frames that parse to the message they stand for', () => {
    const t = tick('bl2-smart-ex-1', 60_000);
    expect(JSON.parse(deltaFrame(JSON.stringify('a"b'), 7, JSON.stringify(t), false))).toEqual({ type: 'delta', id: 'a"b', seq: 7, data: t });
    expect(JSON.parse(deltaFrame('"x"', 8, JSON.stringify(t), true))).toEqual({ type: 'delta', id: 'x', seq: 8, data: t, conflated: true });
  });
});

describe('streams', () => {
  it('numbers deltas and hands back a gap only while all of it is held', () => {
    const log = new StreamLog<string>(3);
    for (const item of ['a', 'b', 'c', 'd', 'e']) log.append(item);
    expect(log.seq).toBe(5);
    expect(log.since(5)).toEqual([]);
    expect(log.since(2)?.map((e) => [e.seq, e.item])).toEqual([[3, 'c'], [4, 'd'], [5, 'e']]);
    expect(log.since(1)).toBeUndefined(); // delta 2 is gone
    expect(log.since(9)).toBeUndefined(); // from another life of the stream
  });

  it('matches filters and names them independently of field order', () => {
    expect(streamKey('throughput', { kind: 'smart', site: 'bac-luan-2' })).toBe(streamKey('throughput', { site: 'bac-luan-2', kind: 'smart' }));
    expect(streamKey('kpis', { site: 'bac-luan-2' })).not.toBe(streamKey('lanes', { site: 'bac-luan-2' }));
    expect(streamKey('journeys', { plate: '14C-123.45' })).not.toBe(streamKey('journeys', { plate: '14C-123.46' }));
    const journey = { plate: '14C-123.45', site: 'bac-luan-2', startedAt: 5 } as ChannelData['journeys']['delta'];
    expect(channelRules.journeys.matches(journey, { site: 'bac-luan-2', plate: '14C-123.45' })).toBe(true);
    expect(channelRules.journeys.matches(journey, { site: 'van-ninh' })).toBe(false);
    expect(channelRules.journeys.conflationKey(journey)).toBe('14C-123.45|5');
    expect(tickMatches(tick('bl2-smart-ex-1', 0), { site: 'bac-luan-2', kind: 'smart' })).toBe(true);
    expect(tickMatches(tick('bl2-smart-ex-1', 0), { lane: 'bl2-smart-ex-2' })).toBe(false);
  });

  it('keeps the newest tick per window for the horizon only', () => {
    const board = new ThroughputBoard(3_600_000);
    const now = 10 * 3_600_000;
    board.put(tick('bl2-smart-ex-1', now - 60_000, 2), now);
    board.put(tick('bl2-smart-ex-1', now - 60_000, 1), now); // older publication: ignored
    board.put(tick('bl2-smart-ex-1', now - 2 * 3_600_000, 1), now);
    expect(board.matching({}, now).map((t) => [t.windowStart, t.publishedAt])).toEqual([[now - 60_000, 2]]);
  });
});
