import { createEventValidator, loadCatalog } from '@tower/shared';
import { sampleEvents } from '@tower/shared/testing';
import { describe, expect, it } from 'vitest';
import { UnparsableLine, judgeBatch, parseNdjson } from './batch.ts';

const validate = createEventValidator(loadCatalog());
const device = { id: 'bl2-gw-1', site: 'bac-luan-2' };

describe('judgeBatch', () => {
  it('accepts valid events and reports each invalid one by index, field and reason', () => {
    const [arrived, queued] = sampleEvents();
    const items = [arrived, { ...queued, lane: 'bl2-nowhere' }, 'junk', new UnparsableLine('line 4 is not JSON: Unexpected token')];
    const verdict = judgeBatch(items, validate, device);
    expect(verdict.accepted.map((a) => a.event)).toEqual([arrived]);
    expect(verdict.accepted[0]?.family.topic).toBe('tower.trucks.v1');
    expect(verdict.rejected).toEqual([
      { index: 1, eventId: queued!.eventId, errors: [{ field: '/lane', reason: `'bl2-nowhere' is not a lane in catalog v${loadCatalog().version}` }] },
      { index: 2, errors: [{ field: '/', reason: 'an event must be a JSON object' }] },
      { index: 3, errors: [{ field: '/', reason: 'line 4 is not JSON: Unexpected token' }] },
    ]);
  });

  it('refuses events for another site than the device’s', () => {
    const vanNinh = sampleEvents().find((e) => e.site === 'van-ninh')!;
    expect(judgeBatch([vanNinh], validate, device).rejected[0]?.errors).toContainEqual({ field: '/site', reason: 'device bl2-gw-1 may only send events for site bac-luan-2' });
  });
});

describe('parseNdjson', () => {
  it('parses one event per line, skips blank lines and keeps bad lines in place', () => {
    const items = parseNdjson('{"a":1}\n\n  {"b":2}  \n{oops\n');
    expect(items.slice(0, 2)).toEqual([{ a: 1 }, { b: 2 }]);
    expect(items[2]).toBeInstanceOf(UnparsableLine);
    expect((items[2] as UnparsableLine).reason).toMatch(/^line 4 is not JSON/);
  });
});
