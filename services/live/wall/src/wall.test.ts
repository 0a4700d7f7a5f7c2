import { describe, expect, it } from 'vitest';
import { emptyMeasures, type SlotAvailability, type ThroughputTick } from '@tower/shared';
import { LiveClient, type SocketLike } from './live-client.ts';
import { AlertChime, AlertPanel, LaneGrid, laneGroups, SlotUtilisation, ThroughputChartModel, maxAlerts, nextInRotation, provisionalMarkMs, type Alert, type LaneNow } from './state.ts';

const minute = 60_000;

class FakeSocket implements SocketLike {
  readyState: SocketLike['readyState'] = 0;
  sent: Record<string, unknown>[] = [];
  onopen: SocketLike['onopen'] = null;
  onclose: SocketLike['onclose'] = null;
  onmessage: SocketLike['onmessage'] = null;
  send(text: string) {
    this.sent.push(JSON.parse(text) as Record<string, unknown>);
  }
  close() {}
  open() {
    this.readyState = 1;
    this.onopen?.call(this as unknown as WebSocket, new Event('open'));
  }
  receive(message: object) {
    this.onmessage?.call(this as unknown as WebSocket, { data: JSON.stringify(message) } as MessageEvent);
  }
  drop(code: number) {
    this.readyState = 3;
    this.onclose?.call(this as unknown as WebSocket, { code, reason: '' } as CloseEvent);
  }
}

function harness() {
  const sockets: FakeSocket[] = [];
  const states: string[] = [];
  const timers: { run: () => void; ms: number }[] = [];
  const client = new LiveClient({
    openSocket: () => {
      const socket = new FakeSocket();
      sockets.push(socket);
      return socket;
    },
    onState: (state) => states.push(state),
    setTimer: (run, ms) => timers.push({ run, ms }),
    random: () => 0.5,
  });
  const applied: unknown[] = [];
  client.subscribe({ id: 'flow', channel: 'throughput', filter: { site: 'van-ninh' }, onSnapshot: (d) => applied.push(['snapshot', d]), onDelta: (d) => applied.push(['delta', d]) });
  return { client, sockets, states, timers, applied };
}

describe('the wall’s live client', () => {
  it('subscribes on open, applies snapshot then deltas in order, and resumes from the last seq after a drop', () => {
    const { client, sockets, states, timers, applied } = harness();
    client.start();
    sockets[0]!.open();
    expect(sockets[0]!.sent).toEqual([{ type: 'subscribe', id: 'flow', channel: 'throughput', filter: { site: 'van-ninh' } }]);
    sockets[0]!.receive({ type: 'snapshot', id: 'flow', channel: 'throughput', stream: 's1', seq: 4, resync: false, data: 'S' });
    sockets[0]!.receive({ type: 'delta', id: 'flow', seq: 5, data: 'a' });
    sockets[0]!.receive({ type: 'delta', id: 'flow', seq: 5, data: 'a again' }); // already applied
    sockets[0]!.receive({ type: 'delta', id: 'flow', seq: 6, data: 'b' });
    expect(applied).toEqual([['snapshot', 'S'], ['delta', 'a'], ['delta', 'b']]);

    sockets[0]!.drop(1006);
    expect(states).toEqual(['connecting', 'live', 'lost']);
    expect(timers[0]!.ms).toBe(1000);
    timers[0]!.run();
    sockets[1]!.open();
    expect(sockets[1]!.sent).toEqual([{ type: 'subscribe', id: 'flow', channel: 'throughput', filter: { site: 'van-ninh' }, resume: { stream: 's1', seq: 6 } }]);
    expect(states.at(-1)).toBe('live');
  });

  it('backs off up to the maximum while the gateway stays away', () => {
    const { client, sockets, timers } = harness();
    client.start();
    for (let i = 0; i < 6; i += 1) {
      sockets.at(-1)!.drop(1006);
      timers.at(-1)!.run();
    }
    expect(timers.map((t) => t.ms)).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('asks for a fresh snapshot when a seq is missing', () => {
    const { client, sockets, applied } = harness();
    client.start();
    sockets[0]!.open();
    sockets[0]!.receive({ type: 'snapshot', id: 'flow', channel: 'throughput', stream: 's1', seq: 0, resync: false, data: 'S' });
    sockets[0]!.receive({ type: 'delta', id: 'flow', seq: 2, data: 'skipped one' });
    expect(applied).toEqual([['snapshot', 'S']]);
    expect(sockets[0]!.sent.at(-1)).toEqual({ type: 'subscribe', id: 'flow', channel: 'throughput', filter: { site: 'van-ninh' } });
  });
});

const tick = (lane: string, windowStart: number, trucksCrossed: number, publishedAt = 1): ThroughputTick => ({
  site: 'bac-luan-2', lane, direction: 'export', laneKind: 'smart', windowStart, windowEnd: windowStart + minute, final: false, correction: false,
  ...emptyMeasures, trucksCrossed, newestIngestedAt: 1, publishedAt,
});

describe('the chart model', () => {
  it('shows 60 minutes, the larger of stored and ticked per minute, and forgets what left the hour', () => {
    const now = 100 * minute + 5_000;
    const model = new ThroughputChartModel();
    model.reset({ history: [{ start: 99 * minute, events: 0, trucksCrossed: 7, containersMoved: 1, teuMoved: 0, tonnes: 0 }, { start: 20 * minute, events: 0, trucksCrossed: 3, containersMoved: 0, teuMoved: 0, tonnes: 0 }], windows: [] });
    model.apply(tick('a', 100 * minute, 2));
    model.apply(tick('b', 100 * minute, 3));
    model.apply(tick('b', 100 * minute, 4, 2)); // newer tick of the same window replaces
    model.apply(tick('a', 99 * minute, 5)); // below the stored 7
    const [times, trucks, containers] = model.series(now);
    expect(times).toHaveLength(60);
    expect(times.at(-1)).toBe(6000);
    expect(trucks.slice(-2)).toEqual([7, 6]);
    expect(containers.slice(-2)).toEqual([1, 0]);
    expect(model.size).toBe(4); // the minute-20 bucket is gone
    for (let m = 0; m < 500; m += 1) model.apply(tick('a', (100 + m) * minute, 1));
    model.series(600 * minute);
    expect(model.size).toBeLessThanOrEqual(60);
  });

  it('draws provisional figures at once, marked, replaces them with the confirmed ones, and keeps the mark a moment after the last (no blinking)', () => {
    const now = 100 * minute + 5_000;
    const model = new ThroughputChartModel();
    model.reset({ history: [], windows: [] });
    const figures = (provisional: boolean, trucks: number, newestIngestedAt: number, publishedAt: number): ThroughputTick => ({ ...tick('a', 100 * minute, trucks, publishedAt), newestIngestedAt, provisional });
    model.apply(figures(true, 5, 10, 10));
    expect(model.series(now)[1].at(-1)).toBe(5);
    expect(model.provisional(now)).toBe(true);
    // The confirmed tick of the same events replaces it even though another clock stamped it earlier.
    model.apply(figures(false, 4, 10, 9));
    expect(model.series(now + 1)[1].at(-1)).toBe(4);
    expect(model.provisional(now + 1)).toBe(true);
    expect(model.provisional(now + provisionalMarkMs)).toBe(false);
    // A provisional tick behind the confirmed one is not drawn.
    model.apply(figures(true, 5, 10, 11));
    expect(model.series(now + provisionalMarkMs)[1].at(-1)).toBe(4);
    expect(model.provisional(now + provisionalMarkMs)).toBe(false);
  });
});

describe('zone view and rotation', () => {
  it('sums lanes per site and shows the most serious status', () => {
    const lane = (id: string, status: LaneNow['status'], queueLength: number | null): LaneNow => ({
      site: 'bac-luan-2', lane: id, kind: 'smart', direction: 'export', serviceRatePerHour: 240, status, statusSince: null, queueLength, queueSampledAt: null, lastHour: { trucksCrossed: 10, containersMoved: 0, events: 20, clearanceP95Ms: null, people: 0 },
    });
    const grid = new LaneGrid();
    grid.reset([lane('x', 'open', 4), lane('y', 'congested', 9), lane('z', 'closed', null)]);
    expect(grid.summary('bac-luan-2')).toEqual({ site: 'bac-luan-2', lanesOpen: 2, lanesTotal: 3, trucksLastHour: 30, gatesForPeople: 0, peopleLastHour: 0, queueLength: 13, worst: 'congested', counts: { open: 1, congested: 1, fault: 0, closed: 1, unknown: 0 }, worstLane: lane('y', 'congested', 9) });
    grid.apply(lane('z', 'fault', null));
    expect(grid.summary('bac-luan-2')).toMatchObject({ worst: 'fault', worstLane: { lane: 'z' } });
    // Among lanes in the same state, the longest queue is the worst.
    grid.reset([lane('x', 'open', 4), lane('y', 'open', 9), lane('z', 'open', null)]);
    expect(grid.summary('bac-luan-2').worstLane?.lane).toBe('y');
    expect(grid.summary('ka-long').worstLane).toBeUndefined();
  });

  it('groups lanes by site for the wall: sites with a fault first, then congestion; the lanes not open first; catalog order otherwise', () => {
    const lane = (site: string, id: string, status: LaneNow['status']): LaneNow => ({
      site, lane: id, kind: 'manual', direction: 'export', serviceRatePerHour: 30, status, statusSince: null, queueLength: null, queueSampledAt: null, lastHour: { trucksCrossed: 0, containersMoved: 0, events: 0, clearanceP95Ms: null, people: 0 },
    });
    const sites = [
      { id: 'a', lanes: [{ id: 'a1' }, { id: 'a2' }, { id: 'a3' }] },
      { id: 'b', lanes: [{ id: 'b1' }, { id: 'b2' }] },
      { id: 'c', lanes: [{ id: 'c1' }] },
      { id: 'd', lanes: [{ id: 'd1' }] },
    ];
    const groups = laneGroups([lane('a', 'a1', 'open'), lane('a', 'a2', 'congested'), lane('a', 'a3', 'open'), lane('b', 'b1', 'open'), lane('b', 'b2', 'fault'), lane('c', 'c1', 'open'), lane('d', 'd1', 'unknown')], sites);
    expect(groups.map((g) => [g.site, g.lanes.map((l) => l.lane)])).toEqual([['b', ['b2', 'b1']], ['a', ['a2', 'a1', 'a3']], ['d', ['d1']], ['c', ['c1']]]);
    expect(groups[0]!.counts).toEqual({ open: 1, congested: 0, fault: 1, closed: 0, unknown: 0 });
  });

  it('rotates zone, then each site, then the zone again', () => {
    expect([null, 'a', 'b'].map((s) => nextInRotation(s, ['a', 'b']))).toEqual(['a', 'b', null]);
  });
});

describe('the alerts panel', () => {
  const alert = (id: string, state: Alert['state'], severity: Alert['severity'], at: number, revision = 1): Alert => ({
    id, cause: `lane-fault:x/${id}`, rule: 'lane-fault', severity, site: 'x', lane: id, state, revision, value: 1, threshold: 1,
    raisedAt: at, acknowledgedAt: null, acknowledgedBy: null, clearedAt: state === 'cleared' ? at + 1 : null,
  });

  it('keeps the newest revision, lists unacknowledged alerts first, then acknowledged (each critical, newest first), and stays bounded by dropping the oldest cleared', () => {
    const panel = new AlertPanel();
    for (let i = 0; i < 80; i += 1) panel.apply(alert(`c${i}`, 'cleared', 'warning', i));
    panel.apply(alert('w', 'active', 'warning', 500));
    panel.apply(alert('k', 'active', 'critical', 100));
    panel.apply(alert('k', 'acknowledged', 'critical', 100, 2));
    panel.apply(alert('k', 'active', 'critical', 100, 1)); // an older revision arriving late changes nothing
    const list = panel.list();
    expect(list).toHaveLength(maxAlerts);
    expect(list.slice(0, 2).map((a) => [a.id, a.state])).toEqual([['w', 'active'], ['k', 'acknowledged']]);
    expect(list[2]!.id).toBe('c79');
    expect(list.at(-1)!.id).toBe(`c${80 - (maxAlerts - 2)}`);
  });
});

describe('the alert chime (sound=1)', () => {
  const alert = (id: string, severity: Alert['severity'], state: Alert['state'] = 'active', revision = 1): Alert => ({
    id, cause: `lane-fault:x/${id}`, rule: 'lane-fault', severity, site: 'x', lane: id, state, revision, value: 1, threshold: 1,
    raisedAt: 0, acknowledgedAt: null, acknowledgedBy: null, clearedAt: null,
  });

  it('sounds for a new critical alert only: not for the snapshot, a warning, a later revision, a re-sent alert, or one first seen acknowledged', () => {
    const chime = new AlertChime(5_000);
    chime.snapshot([alert('old', 'critical')]);
    expect(chime.delta(alert('old', 'critical'), 0), 'in the first snapshot').toBe(false);
    expect(chime.delta(alert('w', 'warning'), 10_000), 'a warning').toBe(false);
    expect(chime.delta(alert('k', 'critical'), 20_000), 'a new critical alert').toBe(true);
    expect(chime.delta(alert('k', 'critical'), 40_000), 'the same alert re-sent').toBe(false);
    expect(chime.delta(alert('k', 'critical', 'acknowledged', 2), 60_000), 'its acknowledgement').toBe(false);
    expect(chime.delta(alert('a', 'critical', 'acknowledged', 2), 80_000), 'first seen already acknowledged').toBe(false);
    expect(chime.delta(alert('c', 'critical', 'cleared', 3), 100_000), 'first seen cleared').toBe(false);
    chime.snapshot([alert('s', 'critical')]); // a later snapshot (another site on screen): silent too
    expect(chime.delta(alert('s', 'critical'), 120_000)).toBe(false);
  });

  it('makes one sound per gap in a storm of alerts, and remembers a bounded number of alerts', () => {
    const chime = new AlertChime(5_000);
    const sounded = Array.from({ length: 100 }, (_, i) => chime.delta(alert(`storm-${i}`, 'critical'), 100_000 + i * 200)).filter(Boolean).length;
    expect(sounded, '100 alerts in 20 s, one sound every 5 s at most').toBe(4);
    expect(chime.delta(alert('after', 'critical'), 200_000), 'the storm over, the next new one sounds').toBe(true);
    for (let i = 0; i < 5_000; i += 1) chime.delta(alert(`many-${i}`, 'warning'), 300_000);
    expect(chime.delta(alert('after', 'critical'), 400_000), 'forgotten after thousands of others: it would sound again').toBe(true);
  });
});

describe('slot utilisation', () => {
  const window = (site: string, laneKind: string, windowStart: number, places: Partial<SlotAvailability> = {}): SlotAvailability => ({
    site, laneKind, direction: 'export', windowStart, windowEnd: windowStart + 30 * minute, capacity: 100, held: 0, booked: 0, free: 100, closed: false, version: 1, ...places,
  });
  const t0 = 1000 * 30 * minute;

  it('sums the lane groups of each upcoming window, for a site or the zone, newer versions winning', () => {
    const slots = new SlotUtilisation();
    slots.reset([
      window('bac-luan-2', 'smart', t0, { booked: 50, held: 10, version: 3 }),
      window('bac-luan-2', 'igv', t0, { capacity: 20, booked: 20, closed: true }),
      window('van-ninh', 'port-gate', t0, { capacity: 60, booked: 6 }),
      window('bac-luan-2', 'smart', t0 + 30 * minute, { booked: 1 }),
    ]);
    slots.apply(window('bac-luan-2', 'smart', t0, { booked: 40, version: 2 })); // older: ignored
    slots.apply(window('bac-luan-2', 'smart', t0 + 30 * minute, { booked: 2, held: 3, version: 2 }));
    expect(slots.upcoming('bac-luan-2', t0 + minute, 4)).toEqual([
      { windowStart: t0, windowEnd: t0 + 30 * minute, capacity: 120, held: 10, booked: 70, utilisation: 80 / 120, closedGroups: 1 },
      { windowStart: t0 + 30 * minute, windowEnd: t0 + 60 * minute, capacity: 100, held: 3, booked: 2, utilisation: 0.05, closedGroups: 0 },
    ]);
    expect(slots.upcoming(null, t0, 1)[0]).toMatchObject({ capacity: 180, booked: 76 });
    // Ended windows drop out.
    expect(slots.upcoming(null, t0 + 30 * minute, 4).map((u) => u.windowStart)).toEqual([t0 + 30 * minute]);
  });
});
