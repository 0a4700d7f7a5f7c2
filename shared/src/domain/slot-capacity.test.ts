import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../catalog/catalog.ts';
import fs from 'node:fs';
import path from 'node:path';
import { capacityPlanOf, plannedCapacity, roundTheClockPlan, vietnamCalendar } from './slot-capacity.ts';

const minute = 60_000;
const windowMs = 30 * minute;
const smartExport = { site: 'bac-luan-2', laneKind: 'smart', direction: 'export' as const };

describe('capacity plan', () => {
  it('reads instants in Vietnam time (UTC+7)', () => {
    // 2026-02-16T17:30Z is 00:30 on Tuesday 17 February in Móng Cái (Tết 2026).
    expect(vietnamCalendar(Date.UTC(2026, 1, 16, 17, 30))).toEqual({ date: '2026-02-17', weekday: 2, hour: 0 });
    expect(vietnamCalendar(Date.UTC(2026, 10, 22, 16, 59))).toEqual({ date: '2026-11-22', weekday: 0, hour: 23 });
  });

  it('gives every bookable lane of the catalog around the clock: open lanes × nominal rate × window', () => {
    const plan = roundTheClockPlan(loadCatalog().document);
    const at = Date.UTC(2026, 10, 23, 3, 0);
    // Three smart export lanes at 240 trucks/h each: 360 places in 30 minutes.
    expect(plannedCapacity(plan, { ...smartExport, windowStart: at }, windowMs)).toBe(360);
    expect(plannedCapacity(plan, { site: 'bac-luan-2', laneKind: 'igv', direction: 'import' as const, windowStart: at }, windowMs)).toBe(15);
    expect(plannedCapacity(plan, { site: 'van-gia', laneKind: 'port-gate', direction: 'export', windowStart: at }, windowMs)).toBe(30);
    // Steps of a crossing are not booked.
    expect(plannedCapacity(plan, { site: 'bac-luan-2', laneKind: 'weighbridge', direction: 'export', windowStart: at }, windowMs)).toBe(0);
  });

  it('offers no window at a site being built (Vạn Ninh, phase construction), and a plan file cannot open one there', () => {
    const catalog = loadCatalog().document;
    const plan = roundTheClockPlan(catalog);
    const at = Date.UTC(2026, 10, 23, 3, 0);
    expect(Object.keys(plan.weekly).filter((group) => group.startsWith('van-ninh|'))).toEqual([]);
    for (const direction of ['export', 'import']) expect(plannedCapacity(plan, { site: 'van-ninh', laneKind: 'port-gate', direction, windowStart: at }, windowMs)).toBe(0);
    const day = Array.from({ length: 24 }, () => 1);
    expect(() => capacityPlanOf(catalog, { version: 1, weekly: { 'van-ninh|port-gate|export': Array.from({ length: 7 }, () => day) } }, 'f.json')).toThrow(
      'capacity plan f.json is invalid at /weekly/van-ninh|port-gate|export: site van-ninh is under construction and takes no bookings',
    );
    // Once it opens (the phase left out or `operating`), its port gates are booked like Vạn Gia's.
    const opened = { ...catalog, sites: catalog.sites.map((site) => (site.id === 'van-ninh' ? { ...site, phase: 'operating' as const } : site)) };
    expect(plannedCapacity(roundTheClockPlan(opened), { site: 'van-ninh', laneKind: 'port-gate', direction: 'export', windowStart: at }, windowMs)).toBe(60);
  });

  it('lets a dated override (Tết) replace the weekly template for that day only', () => {
    const base = roundTheClockPlan(loadCatalog().document);
    const tetNight = Array.from({ length: 24 }, (_, hour) => (hour < 6 ? 0 : 1));
    const plan = { ...base, overrides: { '2026-02-17': { 'bac-luan-2|smart|export': tetNight } } };
    expect(plannedCapacity(plan, { ...smartExport, windowStart: Date.UTC(2026, 1, 16, 20, 0) }, windowMs)).toBe(0); // 03:00 on Tết
    expect(plannedCapacity(plan, { ...smartExport, windowStart: Date.UTC(2026, 1, 17, 2, 0) }, windowMs)).toBe(120); // 09:00: one lane
    expect(plannedCapacity(plan, { ...smartExport, windowStart: Date.UTC(2026, 1, 17, 20, 0) }, windowMs)).toBe(360); // the next day
  });

  it('reads a plan file over the default and names what is wrong with a bad one', () => {
    const catalog = loadCatalog().document;
    const example = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../../seeds/capacity-plan.example.json'), 'utf8')) as unknown;
    const plan = capacityPlanOf(catalog, example, 'example');
    // Two smart export lanes at night, three by day; Tết 2027 (6 Feb): one lane 08:00–17:00 only.
    expect(plannedCapacity(plan, { ...smartExport, windowStart: Date.UTC(2026, 10, 23, 20, 0) }, windowMs)).toBe(240); // 03:00 in Vietnam
    expect(plannedCapacity(plan, { ...smartExport, windowStart: Date.UTC(2026, 10, 23, 3, 0) }, windowMs)).toBe(360);
    expect(plannedCapacity(plan, { ...smartExport, windowStart: Date.UTC(2027, 1, 6, 3, 0) }, windowMs)).toBe(120);
    expect(plannedCapacity(plan, { ...smartExport, windowStart: Date.UTC(2027, 1, 6, 12, 0) }, windowMs)).toBe(0);
    // Groups the file leaves out keep the default.
    expect(plannedCapacity(plan, { site: 'van-gia', laneKind: 'port-gate', direction: 'export', windowStart: Date.UTC(2026, 10, 23, 3, 0) }, windowMs)).toBe(30);
    const day = (open: number) => Array.from({ length: 24 }, () => open);
    expect(() => capacityPlanOf(catalog, { version: 1, weekly: { 'bac-luan-2|smart|export': [day(4), day(3), day(3), day(3), day(3), day(3), day(3)] } }, 'f.json')).toThrow('capacity plan f.json is invalid at /weekly/bac-luan-2|smart|export: more than the 3 lane(s) the group has');
    expect(() => capacityPlanOf(catalog, { version: 1, overrides: { '2027-02-06': { 'bac-luan-2|weighbridge|export': day(1) } } }, 'f.json')).toThrow(/'bac-luan-2\|weighbridge\|export' is not a bookable lane group/);
    expect(() => capacityPlanOf(catalog, { version: 1, overrides: { '2027-02-30': {} } }, 'f.json')).toThrow('at /overrides/2027-02-30: not a date');
    expect(() => capacityPlanOf(catalog, { version: 1, weekly: { 'bac-luan-2|smart|export': [day(1)] } }, 'f.json')).toThrow(/invalid at \/weekly\/bac-luan-2\|smart\|export/);
  });
});
