/**
 * The firms' side of a run: their fleets, registered before anything is measured; and
 * slot-rush's window: an operator sets its places before the rush (so every firm key
 * races for few places) and, afterwards, cancels what the rush booked and gives the
 * window its places back.
 */
import { registerFleet } from '../../services/slots/src/test-support.ts';
import type { RunContext } from './run-context.ts';
import { callJson, type Target } from './target.ts';

/** Trucks each firm key books in a run: few enough that registering them leaves most of the key's burst of requests. */
const trucksPerFirm = 60;

/**
 * Every firm key of the target with the trucks it books, registered in its firm's fleet
 * (a firm books only its own trucks; again on a later run: 200, harmless). A firm's
 * plates come from its firm id, so they stay its own whatever order the keys come in.
 * Then a pause while the keys' request budgets refill (20/s by default).
 */
export async function provideFleets(target: Target): Promise<RunContext['fleets']> {
  const firms = target.credentials.access.filter((a) => a.role === 'firm');
  const fleets = firms.map((key) => {
    let hash = 0;
    for (const char of key.firm ?? key.id) hash = (hash * 31 + char.codePointAt(0)!) % 1000;
    const plates = Array.from({ length: trucksPerFirm }, (_, i) => `99C-${String(hash).padStart(3, '0')}.${String(i).padStart(2, '0')}`);
    return { token: key.token, plates };
  });
  for (const fleet of fleets) await registerFleet(target.slots, fleet.token, fleet.plates);
  await new Promise((resolve) => setTimeout(resolve, (trucksPerFirm / 20) * 1000));
  return fleets;
}

type Slot = RunContext['slot'];

const selector = (slot: Slot) => ({ site: slot.site, laneKind: slot.laneKind, direction: slot.direction, windowStart: slot.windowStart });

/** Sets the window's places; resolves with the places it had. */
export async function setPlaces(target: Target, operatorToken: string, slot: Slot, capacity: number): Promise<number> {
  const before = await callJson<{ windows: (ReturnType<typeof selector> & { capacity: number })[] }>(`${target.slots}/v1/slots?site=${encodeURIComponent(slot.site)}&from=${slot.windowStart}&to=${slot.windowStart + 1}`, operatorToken);
  const window = before.windows.find((w) => w.laneKind === slot.laneKind && w.direction === slot.direction && w.windowStart === slot.windowStart);
  if (!window) throw new Error(`the window ${JSON.stringify(selector(slot))} is not listed`);
  await callJson(`${target.slots}/v1/windows`, operatorToken, { method: 'PUT', body: JSON.stringify({ ...selector(slot), capacity }) });
  return window.capacity;
}

/** Cancels every held or confirmed booking of the window (operators may at any time), then restores its places. */
export async function releaseWindow(target: Target, operatorToken: string, slot: Slot, capacity: number): Promise<number> {
  const { bookings } = await callJson<{ bookings: { id: string; state: string; laneKind: string; direction: string; windowStart: number }[] }>(
    `${target.slots}/v1/bookings?site=${encodeURIComponent(slot.site)}&from=${slot.windowStart}&to=${slot.windowStart + 1}`,
    operatorToken,
  );
  const ours = bookings.filter((b) => b.laneKind === slot.laneKind && b.direction === slot.direction && (b.state === 'held' || b.state === 'confirmed'));
  for (const booking of ours) await callJson(`${target.slots}/v1/bookings/${booking.id}`, operatorToken, { method: 'DELETE' });
  await callJson(`${target.slots}/v1/windows`, operatorToken, { method: 'PUT', body: JSON.stringify({ ...selector(slot), capacity }) });
  return ours.length;
}
