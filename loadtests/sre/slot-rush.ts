/**
 * slot-rush's window: an operator sets its places before the rush (so every firm key
 * races for few places) and, afterwards, cancels what the rush booked and gives the
 * window its places back.
 */
import type { RunContext } from './run-context.ts';
import { callJson, type Target } from './target.ts';

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
