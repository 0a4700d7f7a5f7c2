import { describe, expect, it } from 'vitest';
import type { SlotAvailability, SlotBooking, SlotMessage } from '@tower/shared';
import { slotMessagesOf } from './publisher.ts';

const places = (windowStart: number, version: number): SlotAvailability => ({
  site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart, windowEnd: windowStart + 1_800_000, capacity: 360, held: version, booked: 0, free: 360 - version, closed: false, version,
});
const booking = (id: string) => ({ id, state: 'held' }) as SlotBooking;
const change = (entryId: string, ...messages: SlotMessage[]) => ({ entryId, messages });

describe('slot messages of concurrent changes', () => {
  it('keeps every booking state in order and each window’s places once, at the highest version', () => {
    const messages = slotMessagesOf([
      change('1-0', { kind: 'booking', booking: booking('bk_a') }, { kind: 'availability', availability: places(0, 7) }),
      change('1-1', { kind: 'booking', booking: booking('bk_b') }, { kind: 'availability', availability: places(0, 9) }),
      change('1-2', { kind: 'availability', availability: places(1_800_000, 3) }),
      change('1-3', { kind: 'booking', booking: booking('bk_a') }, { kind: 'availability', availability: places(0, 8) }),
    ]);
    expect(messages.map((m) => m.key)).toEqual(['bk_a', 'bk_b', 'bk_a', 'bac-luan-2|smart|export|0', 'bac-luan-2|smart|export|1800000']);
    const versions = messages.slice(3).map((m) => (JSON.parse(String(m.value)) as { availability: SlotAvailability }).availability.version);
    expect(versions).toEqual([9, 3]);
  });
});
