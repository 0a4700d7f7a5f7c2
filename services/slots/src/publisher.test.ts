import { describe, expect, it, vi } from 'vitest';
import type { SlotAvailability, SlotBooking, SlotMessage, TopicMessages, TowerProducer } from '@tower/shared';
import { KafkaChangePublisher, slotMessagesOf } from './publisher.ts';
import type { RedisSlotStore } from './store/slot-store.ts';

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

describe('slot change publisher', () => {
  it('drops a change still queued when its caller times out (the outbox relay publishes it): after a stall only changes whose callers still wait are sent', async () => {
    const sent: string[] = [];
    let settled = 0;
    let release: () => void = () => undefined;
    const stall = new Promise<void>((resolve) => (release = resolve));
    const producer: TowerProducer = {
      connect: async () => undefined,
      disconnect: async () => undefined,
      send: async (batch: TopicMessages[]) => {
        sent.push(...batch.flatMap(({ messages }) => messages.map((m) => String(m.key))));
        await stall;
        settled += 1;
      },
    };
    const publisher = new KafkaChangePublisher(producer, 'tower.slots.v1', { published: async () => undefined } as unknown as RedisSlotStore, 50);
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    // Two sends in flight (the publisher's limit), the third change waits for one of them.
    const publishes = [publisher.publish([change('1-0', { kind: 'booking', booking: booking('bk_a') })])];
    await turn();
    publishes.push(publisher.publish([change('1-1', { kind: 'booking', booking: booking('bk_b') })]));
    await turn();
    publishes.push(publisher.publish([change('1-2', { kind: 'booking', booking: booking('bk_c') })]));
    const outcomes = await Promise.allSettled(publishes);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    release();
    // Once a send settles, the next queued write would start within the next turns.
    await vi.waitFor(() => expect(settled).toBe(2));
    for (let i = 0; i < 3; i++) await turn();
    expect(sent).toEqual(['bk_a', 'bk_b']);
  });
});
