import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { placeHolding } from './bookings.ts';
import { bookingIdOf, defaultLedgerRules, firmCap, SlotLedger, windowKeyOf, type HoldRequest, type SlotWindow } from './ledger.ts';
import { vnTruck, zoneLaneGroups } from './test-support.ts';

const minute = 60_000;
const rules = { ...defaultLedgerRules, maxPerFirmPerWindow: 3 };
const windows: SlotWindow[] = [0, 1].map((i) => ({ site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart: (2010 + i * 30) * minute }));
const start = windows[0]!.windowStart - 240 * minute;
/** The first window at lane groups of three sites: a truck is in one of them at a time. */
const zone: SlotWindow[] = zoneLaneGroups.map((group) => ({ ...group, windowStart: windows[0]!.windowStart }));

/** A ledger whose firms registered these trucks (firm → plates). */
const ledger = (capacity = 5, fleets: Record<string, readonly string[]> = {}) => {
  const slots = new SlotLedger(rules, () => capacity);
  for (const [firm, plates] of Object.entries(fleets)) for (const plate of plates) expect(slots.registerTruck(firm, vnTruck(plate), start).ok).toBe(true);
  return slots;
};
const request = (overrides: Partial<HoldRequest> = {}): HoldRequest => ({ ...windows[0]!, firm: 'firm-a', plate: '14C-100.01', cargoClass: 'farm-produce', idempotencyKey: 'k1', at: start, ...overrides });

describe('slot ledger (the reference model of the booking rules)', () => {
  it('refuses by name: full window, firm cap, closed, past, misaligned, same plate twice', () => {
    const slots = ledger(4, { 'firm-a': ['14C-100.01', '14C-100.02', '14C-100.03', '14C-100.09'], 'firm-b': ['14C-200.01'], 'firm-c': ['14C-300.01'] });
    for (let i = 1; i <= 3; i += 1) expect(slots.hold(request({ plate: `14C-100.0${i}`, idempotencyKey: `k${i}` })).ok).toBe(true);
    expect(slots.hold(request({ plate: '14C-100.09', idempotencyKey: 'k9' }))).toEqual({ ok: false, refusal: 'firm-cap-reached' });
    expect(slots.hold(request({ plate: '14C-100.01', idempotencyKey: 'x' }))).toEqual({ ok: false, refusal: 'plate-already-booked' });
    // Another firm's truck: refused as not in its fleet, which says nothing of the booking.
    expect(slots.hold(request({ plate: '14C-100.01', firm: 'firm-b', idempotencyKey: 'x' }))).toEqual({ ok: false, refusal: 'plate-not-in-fleet' });
    expect(slots.hold(request({ firm: 'firm-b', plate: '14C-200.01', idempotencyKey: 'b1' })).ok).toBe(true);
    expect(slots.hold(request({ firm: 'firm-c', plate: '14C-300.01', idempotencyKey: 'c1' }))).toEqual({ ok: false, refusal: 'window-full' });
    expect(slots.availability(windows[0]!, start)).toEqual({ capacity: 4, held: 4, booked: 0, free: 0, closed: false });
    // Holds lapse after 5 minutes: their places are free again.
    expect(slots.availability(windows[0]!, start + 5 * minute)).toMatchObject({ held: 0, free: 4 });
    slots.setClosed(windows[1]!, true);
    expect(slots.hold(request({ ...windows[1]!, idempotencyKey: 'w2' }))).toEqual({ ok: false, refusal: 'window-closed' });
    expect(slots.hold(request({ idempotencyKey: 'p', at: windows[0]!.windowStart + 30 * minute }))).toEqual({ ok: false, refusal: 'window-past' });
    expect(slots.hold(request({ idempotencyKey: 'm', windowStart: windows[0]!.windowStart + minute }))).toEqual({ ok: false, refusal: 'window-not-aligned' });
  });

  it('one held or confirmed booking per plate and window across every site, lane group and direction', () => {
    const slots = ledger(5, { 'firm-a': ['14C-100.01'] });
    const first = slots.hold(request());
    if (!first.ok) throw new Error(first.refusal);
    zone.slice(1).forEach((window, i) => expect(slots.hold(request({ ...window, idempotencyKey: `z${i}` }))).toEqual({ ok: false, refusal: 'plate-already-booked' }));
    // The same plate written without its separators is the same truck.
    expect(slots.hold(request({ ...zone[3]!, plate: '14C10001', idempotencyKey: 'z-bare' }))).toEqual({ ok: false, refusal: 'plate-already-booked' });
    slots.act(first.booking.id, { type: 'confirm', at: start });
    expect(slots.hold(request({ ...zone[3]!, idempotencyKey: 'z-confirmed' }))).toEqual({ ok: false, refusal: 'plate-already-booked' });
    // Another window is another time.
    expect(slots.hold(request({ ...windows[1]!, site: 'po-hen', laneKind: 'manual', idempotencyKey: 'z-next' })).ok).toBe(true);
    // Cancelled: free anywhere in that window; a hold that lapses frees it too.
    slots.act(first.booking.id, { type: 'cancel', at: start, by: 'firm' });
    expect(slots.hold(request({ ...zone[3]!, idempotencyKey: 'z-cancelled' })).ok).toBe(true);
    expect(slots.hold(request({ ...zone[4]!, idempotencyKey: 'z-lapsed', at: start + 5 * minute })).ok).toBe(true);
  });

  it('a retried request (same firm, same Idempotency-Key) gets the same booking, not a second place', () => {
    const slots = ledger(5, { 'firm-a': ['14C-100.01'] });
    const first = slots.hold(request());
    const again = slots.hold(request({ at: start + minute }));
    expect(again).toMatchObject({ ok: true, replayed: true, booking: { id: first.ok ? first.booking.id : '' } });
    expect(slots.availability(windows[0]!, start + minute).held).toBe(1);
  });

  it('tightens the cap of a firm that does not show up', () => {
    expect(firmCap({ decided: 10, noShows: 2 }, rules)).toBe(3);
    expect(firmCap({ decided: 10, noShows: 3 }, rules)).toBe(1);
    expect(firmCap({ decided: 5, noShows: 5 }, rules)).toBe(3); // too few to judge
    const slots = ledger(100, { 'firm-a': [...Array.from({ length: 10 }, (_, i) => `14C-1${i}0.00`), '14C-900.01', '14C-900.02'] });
    for (let i = 0; i < 10; i += 1) {
      const window = { ...windows[0]!, windowStart: windows[0]!.windowStart + i * 30 * minute };
      const held = slots.hold(request({ ...window, plate: `14C-1${i}0.00`, idempotencyKey: `n${i}` }));
      if (!held.ok) throw new Error(held.refusal);
      slots.act(held.booking.id, { type: 'confirm', at: start });
      slots.act(held.booking.id, { type: 'tick', at: window.windowStart + 181 * minute }); // nobody came, even late
    }
    expect(slots.firmRecord('firm-a')).toEqual({ decided: 10, noShows: 10 });
    const later = { ...windows[0]!, windowStart: windows[0]!.windowStart + 20 * 30 * minute };
    expect(slots.hold(request({ ...later, plate: '14C-900.01', idempotencyKey: 'l1', at: later.windowStart - minute })).ok).toBe(true);
    expect(slots.hold(request({ ...later, plate: '14C-900.02', idempotencyKey: 'l2', at: later.windowStart - minute }))).toEqual({ ok: false, refusal: 'firm-cap-reached' });
  });

  it('fleets: a truck is in one firm’s fleet; registering again updates it; removal waits for the firm’s own live bookings; operators transfer', () => {
    const slots = ledger(5);
    const registered = slots.registerTruck('firm-a', { plate: '14C-100.01', country: 'VN', driverName: 'Nguyễn Văn A' }, start);
    expect(registered).toEqual({ ok: true, created: true, truck: { plate: '14C-100.01', plateKey: '14C10001', country: 'VN', driverName: 'Nguyễn Văn A', registeredAt: start } });
    // Again by its owner, written without separators: the same truck, details updated, registeredAt kept.
    expect(slots.registerTruck('firm-a', { plate: '14C10001', country: 'VN', driverPhone: '+84912345678' }, start + minute)).toEqual({
      ok: true,
      created: false,
      truck: { plate: '14C10001', plateKey: '14C10001', country: 'VN', driverPhone: '+84912345678', registeredAt: start },
    });
    expect(slots.registerTruck('firm-b', vnTruck('14C-100.01'), start)).toEqual({ ok: false, refusal: 'plate-in-another-fleet' });
    expect(slots.fleet('firm-a').map((t) => t.plateKey)).toEqual(['14C10001']);
    expect(slots.fleet('firm-b')).toEqual([]);

    const held = slots.hold(request());
    if (!held.ok) throw new Error(held.refusal);
    expect(slots.removeTruck('firm-a', '14C-100.01', start)).toEqual({ ok: false, refusal: 'truck-has-bookings' });
    // Another firm's truck is as unknown to it as no truck at all.
    expect(slots.removeTruck('firm-b', '14C-100.01', start)).toEqual({ ok: false, refusal: 'truck-not-in-fleet' });
    // The hold lapses: nothing ahead holds the truck.
    expect(slots.removeTruck('firm-a', '14C-100.01', start + 5 * minute)).toEqual({ ok: true });
    expect(slots.hold(request({ idempotencyKey: 'k2', at: start + 5 * minute }))).toEqual({ ok: false, refusal: 'plate-not-in-fleet' });

    // Transfer: refused while the firm that has the truck holds or confirmed it ahead (the new owner would learn of it, the old could still confirm).
    slots.registerTruck('firm-a', vnTruck('14C-100.01'), start + 6 * minute);
    const confirmed = slots.hold(request({ idempotencyKey: 'k3', at: start + 6 * minute }));
    if (!confirmed.ok) throw new Error(confirmed.refusal);
    slots.act(confirmed.booking.id, { type: 'confirm', at: start + 6 * minute });
    const held2 = slots.hold(request({ ...windows[1]!, idempotencyKey: 'k3b', at: start + 6 * minute }));
    expect(held2.ok).toBe(true);
    expect(slots.transferTruck('14C-999.99', 'firm-b', start)).toEqual({ ok: false, refusal: 'truck-not-in-fleet' });
    expect(slots.transferTruck('14C10001', 'firm-b', start + 7 * minute)).toEqual({ ok: false, refusal: 'truck-has-bookings', bookings: 2 });
    expect(slots.truckOwner('14C-100.01')).toBe('firm-a');
    // To its own firm it is no move at all.
    expect(slots.transferTruck('14C10001', 'firm-a', start + 7 * minute)).toMatchObject({ ok: true, fromFirm: 'firm-a' });
    // An operator cancels them (operators may cancel any booking), then moves the truck.
    expect(slots.act(confirmed.booking.id, { type: 'cancel', at: start + 7 * minute, by: 'operator' })?.ok).toBe(true);
    expect(slots.act(bookingIdOf('firm-a', 'k3b'), { type: 'cancel', at: start + 7 * minute, by: 'operator' })?.ok).toBe(true);
    expect(slots.transferTruck('14C10001', 'firm-b', start + 7 * minute)).toMatchObject({ ok: true, fromFirm: 'firm-a', truck: { plateKey: '14C10001', registeredAt: start + 7 * minute } });
    expect(slots.truckOwner('14C-100.01')).toBe('firm-b');
    expect(slots.hold(request({ ...windows[1]!, idempotencyKey: 'k4', at: start + 7 * minute }))).toEqual({ ok: false, refusal: 'plate-not-in-fleet' });
    expect(slots.hold(request({ ...windows[1]!, firm: 'firm-b', idempotencyKey: 'k4', at: start + 7 * minute })).ok).toBe(true);
    // Its own hold stops firm-b removing the truck.
    expect(slots.removeTruck('firm-b', '14C-100.01', start + 8 * minute)).toEqual({ ok: false, refusal: 'truck-has-bookings' });
    expect(slots.act(bookingIdOf('firm-b', 'k4'), { type: 'cancel', at: start + 8 * minute, by: 'firm' })?.ok).toBe(true);
    expect(slots.removeTruck('firm-b', '14C-100.01', start + 8 * minute)).toEqual({ ok: true });
  });

  it('caps a fleet: a hostile firm cannot register trucks without end; a transfer into a full fleet is refused', () => {
    const slots = new SlotLedger({ ...rules, maxFleetTrucks: 2 }, () => 5);
    expect(slots.registerTruck('firm-a', vnTruck('14C-100.01'), start).ok).toBe(true);
    expect(slots.registerTruck('firm-a', vnTruck('14C-100.02'), start).ok).toBe(true);
    expect(slots.registerTruck('firm-a', vnTruck('14C-100.03'), start)).toEqual({ ok: false, refusal: 'fleet-full' });
    // Registering a truck it has again is not one more.
    expect(slots.registerTruck('firm-a', vnTruck('14C-100.02'), start)).toMatchObject({ ok: true, created: false });
    expect(slots.registerTruck('firm-b', vnTruck('14C-200.01'), start).ok).toBe(true);
    expect(slots.transferTruck('14C-200.01', 'firm-a', start)).toEqual({ ok: false, refusal: 'fleet-full' });
    expect(slots.transferTruck('14C-100.01', 'firm-a', start)).toMatchObject({ ok: true, fromFirm: 'firm-a' });
  });

  it('another firm’s plate is refused as not in the fleet before any rule that reads bookings', () => {
    const slots = ledger(1, { 'firm-a': ['14C-100.01'] });
    expect(slots.hold(request()).ok).toBe(true);
    // Booked, and the window full: firm-b hears only that the truck is not its own.
    expect(slots.hold(request({ firm: 'firm-b', idempotencyKey: 'b1' }))).toEqual({ ok: false, refusal: 'plate-not-in-fleet' });
    slots.setClosed(windows[0]!, true);
    expect(slots.hold(request({ firm: 'firm-b', idempotencyKey: 'b2' }))).toEqual({ ok: false, refusal: 'plate-not-in-fleet' });
  });

  it('no answer to firm B depends on firm A’s bookings, whatever either does (property)', { timeout: 120_000 }, () => {
    // Fleets fixed at the start (A has plates 0–2, B 3–5); both firms try every plate.
    const fleets = { 'firm-a': ['14C-300.00', '14C-301.00', '14C-302.00'], 'firm-b': ['14C-303.00', '14C-304.00', '14C-305.00'] };
    const command = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('hold' as const), firm: fc.constantFrom('firm-a', 'firm-b'), window: fc.integer({ min: 0, max: zone.length }), plate: fc.integer({ min: 0, max: 5 }), bare: fc.boolean(), key: fc.integer({ min: 0, max: 8 }), dt: fc.integer({ min: 0, max: 2 * minute }) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('confirm' as const, 'cancel' as const), firm: fc.constantFrom('firm-a', 'firm-b'), key: fc.integer({ min: 0, max: 8 }), dt: fc.integer({ min: 0, max: 2 * minute }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), firm: fc.constantFrom('firm-a', 'firm-b'), plate: fc.integer({ min: 0, max: 5 }), bare: fc.boolean(), key: fc.constant(0), dt: fc.integer({ min: 0, max: 2 * minute }) }) },
    );
    const times = [...zone, windows[1]!];
    /** Firm B's answers, in order, to the commands run (A's too, or only B's). */
    const answersOfB = (commands: readonly (typeof command extends fc.Arbitrary<infer C> ? C : never)[]) => {
      const slots = ledger(1000, fleets);
      let at = start;
      const answers: unknown[] = [];
      for (const c of commands) {
        at += c.dt;
        const plate = c.kind === 'hold' || c.kind === 'remove' ? (c.bare ? `14C30${c.plate}00` : `14C-30${c.plate}.00`) : '';
        let answer: unknown;
        if (c.kind === 'hold') answer = slots.hold(request({ ...times[c.window]!, firm: c.firm, plate, idempotencyKey: `k${c.key}`, at }));
        else if (c.kind === 'remove') answer = slots.removeTruck(c.firm, plate, at);
        else answer = slots.act(bookingIdOf(c.firm, `k${c.key}`), c.kind === 'cancel' ? { type: 'cancel', at, by: 'firm' } : { type: 'confirm', at });
        if (c.firm === 'firm-b') answers.push(answer);
      }
      return answers;
    };
    let refusedNotInFleet = 0;
    let bookedByBoth = 0;
    fc.assert(
      fc.property(fc.array(command, { maxLength: 50 }), (commands) => {
        const withA = answersOfB(commands);
        // A's commands taken out, but the clock moves as before.
        let carried = 0;
        const onlyB = commands.flatMap((c) => {
          carried += c.dt;
          if (c.firm === 'firm-a') return [];
          const kept = { ...c, dt: carried };
          carried = 0;
          return [kept];
        });
        expect(withA).toEqual(answersOfB(onlyB));
        refusedNotInFleet += withA.filter((a) => (a as { refusal?: string } | undefined)?.refusal === 'plate-not-in-fleet').length;
        if (commands.some((c) => c.kind === 'hold' && c.firm === 'firm-a' && c.plate >= 3) && commands.some((c) => c.kind === 'hold' && c.firm === 'firm-b' && c.plate < 3)) bookedByBoth += 1;
      }),
      { numRuns: 500 },
    );
    expect(refusedNotInFleet).toBeGreaterThan(200);
    expect(bookedByBoth).toBeGreaterThan(100);
  });

  it('never overbooks and never lets a firm hoard, whatever the commands (property)', { timeout: 120_000 }, () => {
    const firms = ['firm-a', 'firm-b', 'firm-c'];
    const command = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('hold' as const), window: fc.integer({ min: 0, max: 1 }), firm: fc.constantFrom(...firms), plate: fc.integer({ min: 0, max: 9 }), key: fc.integer({ min: 0, max: 15 }), dt: fc.integer({ min: 0, max: minute }) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('confirm' as const, 'cancel' as const, 'arrive' as const, 'cross' as const), booking: fc.integer({ min: 1, max: 20 }), dt: fc.integer({ min: 0, max: 5 * minute }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('capacity' as const), window: fc.integer({ min: 0, max: 1 }), capacity: fc.integer({ min: 0, max: 8 }), dt: fc.constant(0) }) },
    );
    let placesGiven = 0;
    let refusedFull = 0;
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), (commands) => {
        const slots = ledger(6, Object.fromEntries(firms.map((firm, f) => [firm, Array.from({ length: 10 }, (_, p) => `14C-1${f}${p}.00`)])));
        const firstBookingOfKey = new Map<string, string>();
        const given: string[] = [];
        let at = start;
        for (const c of commands) {
          at += c.dt;
          if (c.kind === 'capacity') slots.setCapacity(windows[c.window]!, c.capacity);
          else if (c.kind === 'hold') {
            const window = windows[c.window]!;
            const outcome = slots.hold(request({ ...window, firm: c.firm, plate: `14C-1${firms.indexOf(c.firm)}${c.plate}.00`, idempotencyKey: `k${c.key}`, at }));
            if (!outcome.ok) {
              if (outcome.refusal === 'window-full') refusedFull += 1;
              continue;
            }
            const key = `${c.firm}|k${c.key}`;
            if (outcome.replayed) expect(outcome.booking.id).toBe(firstBookingOfKey.get(key));
            else {
              expect(firstBookingOfKey.has(key)).toBe(false);
              firstBookingOfKey.set(key, outcome.booking.id);
              given.push(outcome.booking.id);
              placesGiven += 1;
              // A new place was given only if it fit: capacity and the firm's cap hold right after.
              const availability = slots.availability(window, at);
              expect(availability.held + availability.booked).toBeLessThanOrEqual(availability.capacity);
              const ids = [...firstBookingOfKey.values()].map((id) => slots.booking(id, at)!);
              const firmOpen = ids.filter((b) => b.firm === c.firm && b.windowStart === window.windowStart && placeHolding.has(b.state));
              expect(firmOpen.length).toBeLessThanOrEqual(firmCap(slots.firmRecord(c.firm), rules));
            }
          } else {
            const action = c.kind === 'cancel' ? { type: 'cancel' as const, at, by: 'firm' as const } : { type: c.kind, at };
            const id = given[c.booking - 1];
            if (id) slots.act(id, action);
          }
        }
      }),
      { numRuns: 1000 },
    );
    // The runs exercised both sides of the rule, not only refusals.
    expect(placesGiven).toBeGreaterThan(1500);
    expect(refusedFull).toBeGreaterThan(20);
  });

  it('never books a truck twice at one time anywhere in the zone, whatever the commands (property)', { timeout: 120_000 }, () => {
    // The zone's lane groups in one window, and the next window.
    const times = [...zone, windows[1]!];
    const command = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('hold' as const), window: fc.integer({ min: 0, max: times.length - 1 }), plate: fc.integer({ min: 0, max: 3 }), key: fc.integer({ min: 0, max: 30 }), dt: fc.integer({ min: 0, max: 2 * minute }) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('confirm' as const, 'cancel' as const, 'arrive' as const), booking: fc.nat({ max: 30 }), dt: fc.integer({ min: 0, max: 2 * minute }) }) },
    );
    let refusedElsewhere = 0;
    let bookedElsewhereAfterRelease = 0;
    fc.assert(
      fc.property(fc.array(command, { maxLength: 50 }), (commands) => {
        const slots = ledger(100, { 'firm-a': ['14C-200.00', '14C-201.00'], 'firm-b': ['14C-202.00', '14C-203.00'] });
        const given: string[] = [];
        let at = start;
        const open = () => given.map((id) => slots.booking(id, at)!).filter((b) => b.state === 'held' || b.state === 'confirmed');
        for (const c of commands) {
          at += c.dt;
          if (c.kind === 'hold') {
            const window = times[c.window]!;
            const plate = `14C-20${c.plate}.00`;
            const before = given.map((id) => slots.booking(id, at)!).filter((b) => b.plate === plate && b.windowStart === window.windowStart);
            // Each truck is booked by the firm whose fleet has it (plates 0 and 1 firm-a's, 2 and 3 firm-b's).
            const outcome = slots.hold(request({ ...window, firm: c.plate < 2 ? 'firm-a' : 'firm-b', plate, idempotencyKey: `k${c.key}`, at }));
            if (!outcome.ok && outcome.refusal === 'plate-already-booked' && !open().some((b) => b.plate === plate && windowKeyOf(b) === windowKeyOf(window))) refusedElsewhere += 1;
            if (outcome.ok && !outcome.replayed) {
              given.push(outcome.booking.id);
              if (before.some((b) => windowKeyOf(b) !== windowKeyOf(window))) bookedElsewhereAfterRelease += 1;
            }
          } else if (given.length > 0) {
            slots.act(given[c.booking % given.length]!, c.kind === 'cancel' ? { type: 'cancel', at, by: 'firm' } : { type: c.kind, at });
          }
          const trucksAt = open().map((b) => `${b.plate}|${b.windowStart}`);
          expect(new Set(trucksAt).size).toBe(trucksAt.length);
        }
      }),
      { numRuns: 500 },
    );
    // Refusals across sites and groups happened, and so did bookings there once the first one was released.
    expect(refusedElsewhere).toBeGreaterThan(100);
    expect(bookedElsewhereAfterRelease).toBeGreaterThan(20);
  });
});
