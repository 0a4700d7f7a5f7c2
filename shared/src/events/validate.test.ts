import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../catalog/catalog.ts';
import { sampleEvents } from '../testing/events.ts';
import { containerNumberProblem, iso6346CheckDigit } from './iso6346.ts';
import { eventTypeNames } from './model.ts';
import { illFormedStrings } from './strings.ts';
import { createEventValidator } from './validate.ts';

const now = Date.parse('2026-11-22T08:00:00+07:00');
const validate = createEventValidator(loadCatalog(), { now: () => now, maxFutureMs: 5 * 60_000, maxAgeMs: 7 * 24 * 3600_000 });
const sample = (type: string) => structuredClone(sampleEvents(now).find((e) => e.type === type)!) as unknown as Record<string, unknown>;
const issuesOf = (candidate: unknown, scope?: { site: string; device: string }) => {
  const result = validate(candidate, scope);
  return result.ok ? [] : result.issues;
};

describe('ISO 6346', () => {
  it('computes check digits and explains a wrong one', () => {
    expect(iso6346CheckDigit('CSQU305438')).toBe(3);
    expect(iso6346CheckDigit('MSKU907032')).toBe(3);
    expect(containerNumberProblem('CSQU3054383')).toBeUndefined();
    expect(containerNumberProblem('CSQU3054384')).toBe('check digit is 4, ISO 6346 gives 3');
    expect(containerNumberProblem('CSQ3054383')).toMatch(/ISO 6346/);
  });
});

describe('event validation', () => {
  it('accepts one sample of every event type', () => {
    const samples = sampleEvents(now);
    expect(samples.map((e) => e.type).sort()).toEqual([...eventTypeNames].sort());
    for (const event of samples) expect(issuesOf(event), event.type).toEqual([]);
  });

  it('names unknown and missing types', () => {
    expect(issuesOf({ ...sample('lane.opened'), type: 'lane.exploded' })[0]).toMatchObject({ field: '/type', reason: expect.stringContaining("'lane.exploded' is not an event type") });
    expect(issuesOf({ site: 'x' })[0]).toEqual({ field: '/type', reason: 'is required' });
    expect(issuesOf('not an object')[0]).toEqual({ field: '/', reason: 'an event must be a JSON object' });
  });

  it('reports each schema problem with its field', () => {
    const weighed = sample('truck.weighed');
    delete weighed['grossKg'];
    weighed['direction'] = 'sideways';
    weighed['eventId'] = 'not-a-uuid';
    weighed['colour'] = 'red';
    const issues = issuesOf(weighed);
    expect(issues).toEqual(
      expect.arrayContaining([
        { field: '/grossKg', reason: 'is required' },
        { field: '/direction', reason: 'must be one of export, import' },
        { field: '/eventId', reason: expect.stringContaining('expected format') },
        { field: '/colour', reason: expect.stringContaining('') },
      ]),
    );
  });

  it('refuses an insane weight', () => {
    expect(issuesOf({ ...sample('truck.weighed'), grossKg: 250_000 })[0]?.field).toBe('/grossKg');
    expect(issuesOf({ ...sample('truck.gate-in'), declaredGrossKg: 250_000 })[0]?.field).toBe('/declaredGrossKg');
    expect(issuesOf({ ...sample('truck.gate-in'), declaredGrossKg: 24_500 })).toEqual([]);
  });

  it('checks sites, lanes and zones against the catalog', () => {
    expect(issuesOf({ ...sample('lane.opened'), site: 'atlantis' })).toContainEqual({ field: '/site', reason: `'atlantis' is not a site in catalog v${loadCatalog().version}` });
    expect(issuesOf({ ...sample('lane.opened'), lane: 'vn-port-gate-ex-1' })).toContainEqual({ field: '/lane', reason: 'lane vn-port-gate-ex-1 belongs to van-ninh, not bac-luan-2' });
    expect(issuesOf({ ...sample('truck.weighed'), lane: 'bl2-scanner-ex-1' })).toContainEqual({ field: '/lane', reason: 'truck.weighed cannot happen on a scanner lane (bl2-scanner-ex-1)' });
    expect(issuesOf({ ...sample('truck.gate-in'), lane: 'bl2-smart-im-1' })).toContainEqual({ field: '/lane', reason: 'lane bl2-smart-im-1 is an import lane; the truck is on export' });
    expect(issuesOf({ ...sample('container.discharged'), crane: 'vn-berth-2' })).toContainEqual({ field: '/crane', reason: "'vn-berth-2' is not a quay-crane of van-ninh" });
    expect(issuesOf({ ...sample('lane.igv-telemetry'), lane: 'bl2-smart-ex-1' })[0]?.reason).toMatch(/cannot happen on a smart lane/);
  });

  it('keeps people and vehicles apart: person crossings only at a biometric gate, in its direction; no truck, container or queue there', () => {
    expect(issuesOf({ ...sample('lane.person-crossed'), site: 'bac-luan-2', lane: 'bl2-smart-ex-1' })).toContainEqual({ field: '/lane', reason: 'lane.person-crossed cannot happen on a smart lane (bl2-smart-ex-1)' });
    expect(issuesOf({ ...sample('lane.person-crossed'), direction: 'entry' })).toEqual([{ field: '/direction', reason: 'bl1-biometric-gate-ex-1 is an exit gate; the person is on entry' }]);
    expect(issuesOf({ ...sample('lane.person-crossed'), lane: 'bl1-biometric-gate-im-2', direction: 'entry', documentKind: 'passport', verification: 'officer' })).toEqual([]);
    expect(issuesOf({ ...sample('lane.person-crossed'), verification: 'face-id' })).toContainEqual({ field: '/verification', reason: 'must be one of biometric, officer' });
    // No personal data travels: a name or a document number is refused as an unknown field.
    expect(issuesOf({ ...sample('lane.person-crossed'), documentNumber: 'C1234567' })).toContainEqual({ field: '/documentNumber', reason: expect.any(String) });
    const atBl1 = { site: 'bac-luan-1', lane: 'bl1-biometric-gate-ex-1' };
    expect(issuesOf({ ...sample('truck.arrived'), ...atBl1 })).toEqual([{ field: '/lane', reason: 'bl1-biometric-gate-ex-1 is a gate for people; a truck event cannot name it' }]);
    expect(issuesOf({ ...sample('truck.gate-in'), ...atBl1 })).toContainEqual({ field: '/lane', reason: 'bl1-biometric-gate-ex-1 is a gate for people; a truck event cannot name it' });
    expect(issuesOf({ ...sample('lane.queue-sampled'), ...atBl1 })).toEqual([{ field: '/lane', reason: 'lane.queue-sampled cannot happen on a biometric-gate lane (bl1-biometric-gate-ex-1)' }]);
    expect(issuesOf({ ...sample('lane.fault'), ...atBl1 })).toEqual([]);
  });

  it('checks plates and container check digits', () => {
    expect(issuesOf({ ...sample('truck.arrived'), plate: '桂P·12345' })).toContainEqual({ field: '/plate', reason: "'桂P·12345' is not a Vietnamese plate" });
    expect(issuesOf({ ...sample('truck.arrived'), plate: '桂P·12345', plateCountry: 'CN' })).toEqual([]);
    expect(issuesOf({ ...sample('truck.arrived'), containers: ['CSQU3054383', 'CSQU3054384'] })).toContainEqual({ field: '/containers/1', reason: 'check digit is 4, ISO 6346 gives 3' });
    expect(issuesOf({ ...sample('container.gate-in'), containerNumber: 'MSKU9070324' })).toContainEqual({ field: '/containerNumber', reason: 'check digit is 4, ISO 6346 gives 3' });
  });

  it('refuses events from the future and from before the retention', () => {
    expect(issuesOf({ ...sample('lane.opened'), observedAt: now + 5 * 60_000 })).toEqual([]);
    expect(issuesOf({ ...sample('lane.opened'), observedAt: now + 6 * 60_000 })).toContainEqual({ field: '/observedAt', reason: 'is 360 s in the future; at most 300 s allowed' });
    expect(issuesOf({ ...sample('lane.opened'), observedAt: now - 8 * 24 * 3600_000 })[0]?.reason).toBe('is older than 168 h');
  });

  it('keeps a device to its own site', () => {
    expect(issuesOf(sample('lane.opened'), { site: 'van-ninh', device: 'VN-TOS' })).toContainEqual({ field: '/site', reason: 'device VN-TOS may only send events for site van-ninh' });
    expect(issuesOf(sample('lane.opened'), { site: 'bac-luan-2', device: 'BL2-LANE-CTL' })).toEqual([]);
  });

  it('refuses strings that are not well-formed UTF-16, naming each field, nested ones too', () => {
    const fault = { ...sample('lane.fault'), source: 'SEC\uD800', detail: 'belt \uDC00 jammed' };
    expect(issuesOf(fault)).toEqual([
      { field: '/source', reason: 'is not well-formed Unicode: a lone surrogate U+D800 at position 3' },
      { field: '/detail', reason: 'is not well-formed Unicode: a lone surrogate U+DC00 at position 5' },
    ]);
    // A string that also breaks its pattern is reported once, for what makes it unwritable.
    expect(issuesOf({ ...sample('truck.weighed'), containers: ['CSQU3054383', 'CSQU305438\uD83D'] })).toEqual([
      { field: '/containers/1', reason: 'is not well-formed Unicode: a lone surrogate U+D83D at position 10' },
    ]);
    expect(issuesOf({ ...sample('lane.opened'), ['x\uD800']: 1 })).toContainEqual({ field: '/', reason: 'has a property name that is not well-formed Unicode (a lone surrogate U+D800 at position 1)' });
    // A surrogate pair is a well-formed character.
    expect(issuesOf({ ...sample('lane.fault'), detail: 'belt 🚚 jammed' })).toEqual([]);
  });

  it('finds ill-formed strings at any depth without overflowing the stack', () => {
    let nested: unknown = 'x\uDBFF';
    for (let i = 0; i < 100_000; i += 1) nested = [nested];
    const [found] = illFormedStrings({ deep: nested });
    expect(found?.pointer).toBe(`/deep${'/0'.repeat(100_000)}`);
    expect(illFormedStrings({ a: { b: { c: { d: { e: ['fine', 'a~/b 🚚'] } } } }, 'x/y~': 'z\uDC00' })).toEqual([{ pointer: '/x~1y~0', reason: 'is not well-formed Unicode: a lone surrogate U+DC00 at position 1' }]);
  });
});
