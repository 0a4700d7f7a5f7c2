import { TypeCompiler, ValueErrorType, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TObject, TSchema } from '@sinclair/typebox';
import type { SiteCatalog } from '../catalog/catalog.ts';
import { laneKinds, type Direction, type Lane, type LaneKind, type Zone } from '../catalog/schema.ts';
import type { FieldIssue } from '../errors.ts';
import { containerNumberProblem } from './iso6346.ts';
import { chinesePlatePattern, eventTypeNames, eventTypeSchemas, vietnamesePlatePattern, type EventFamily, type PersonDirection, type TowerEvent } from './model.ts';
import { illFormedStrings } from './strings.ts';

export type EventValidation = { ok: true; event: TowerEvent; family: EventFamily } | { ok: false; issues: FieldIssue[] };

export interface ValidationOptions {
  now: () => number;
  /** Device clocks drift; an event further in the future is refused. */
  maxFutureMs: number;
  /** Older than this is refused (Kafka keeps 7 days). */
  maxAgeMs: number;
}

export const defaultValidationOptions: ValidationOptions = { now: Date.now, maxFutureMs: 5 * 60_000, maxAgeMs: 7 * 24 * 3600_000 };

const vehicleLaneKinds = laneKinds.filter((kind) => kind !== 'biometric-gate');

/** Which lane kinds an event type may name. */
const laneKindsFor: Partial<Record<TowerEvent['type'], readonly LaneKind[]>> = {
  'truck.queue-joined': ['smart', 'igv', 'manual', 'checkpoint'],
  'truck.plate-read': ['smart', 'igv', 'manual', 'checkpoint', 'weighbridge', 'scanner'],
  'truck.weighed': ['weighbridge'],
  'truck.scanned': ['scanner'],
  'truck.gate-in': ['smart', 'igv', 'manual'],
  'truck.border-crossed': ['smart', 'igv', 'manual'],
  'truck.gate-out': ['smart', 'igv', 'manual'],
  'container.gate-in': ['port-gate'],
  'container.gate-out': ['port-gate'],
  'lane.igv-telemetry': ['igv'],
  'lane.person-crossed': ['biometric-gate'],
  // A queue is of vehicles: none at a gate for people.
  'lane.queue-sampled': vehicleLaneKinds,
  'lane.congested': vehicleLaneKinds,
};

/** A person's exit is through an exit (`export`) gate, an entry through an entry (`import`) gate. */
const laneDirectionOfPerson: Readonly<Record<PersonDirection, Direction>> = { exit: 'export', entry: 'import' };

const vietnamesePlate = new RegExp(vietnamesePlatePattern, 'u');
const chinesePlate = new RegExp(chinesePlatePattern, 'u');

const zoneFields: Record<string, Zone['kind']> = { berth: 'berth', crane: 'quay-crane', fromBlock: 'yard-block', toBlock: 'yard-block' };

function describeSchemaError(schema: TSchema, message: string): string {
  const anyOf = schema['anyOf'] as TSchema[] | undefined;
  if (anyOf?.every((s) => 'const' in s)) return `must be one of ${anyOf.map((s) => String(s['const'])).join(', ')}`;
  if (typeof schema['pattern'] === 'string' && message.startsWith('Expected string to match')) return `does not have the expected format (${schema['description'] ?? schema['pattern']})`;
  return message.replace(/^Expected/, 'expected');
}

/**
 * Validates one candidate event: its shape against its type's schema, then its meaning
 * against the catalog and the clock. Every problem is reported with its field.
 */
export function createEventValidator(catalog: SiteCatalog, options: ValidationOptions = defaultValidationOptions) {
  const checks = new Map<string, TypeCheck<TObject>>([...eventTypeSchemas].map(([name, { schema }]) => [name, TypeCompiler.Compile(schema)]));

  return function validateEvent(candidate: unknown, scope?: { site: string; device: string }): EventValidation {
    if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
      return { ok: false, issues: [{ field: '/', reason: 'an event must be a JSON object' }] };
    }
    // First, since such a string cannot be written (nor echoed in a reason); it is that field's one issue.
    const issues: FieldIssue[] = illFormedStrings(candidate).map(({ pointer, reason }) => ({ field: pointer, reason }));
    const seen = new Set(issues.map((issue) => issue.field));
    const type = (candidate as { type?: unknown }).type;
    const entry = typeof type === 'string' ? eventTypeSchemas.get(type) : undefined;
    const check = typeof type === 'string' ? checks.get(type) : undefined;
    if (!entry || !check) {
      if (!seen.has('/type')) issues.push({ field: '/type', reason: type === undefined ? 'is required' : `'${String(type)}' is not an event type; one of ${eventTypeNames.join(', ')}` });
      return { ok: false, issues };
    }
    // The compiled check is fast; walking the errors is not, so only invalid events pay for it.
    for (const error of check.Check(candidate) ? [] : check.Errors(candidate)) {
      const field = error.path || '/';
      // A path with an ill-formed property name was reported above, at its object.
      if (seen.has(field) || !field.isWellFormed()) continue;
      seen.add(field);
      issues.push({ field, reason: error.type === ValueErrorType.ObjectRequiredProperty ? 'is required' : describeSchemaError(error.schema, error.message) });
    }
    if (issues.length > 0) return { ok: false, issues };

    const event = candidate as TowerEvent;
    const now = options.now();
    if (event.observedAt > now + options.maxFutureMs) issues.push({ field: '/observedAt', reason: `is ${Math.round((event.observedAt - now) / 1000)} s in the future; at most ${options.maxFutureMs / 1000} s allowed` });
    if (event.observedAt < now - options.maxAgeMs) issues.push({ field: '/observedAt', reason: `is older than ${options.maxAgeMs / 3600_000} h` });

    const site = catalog.site(event.site);
    if (!site) issues.push({ field: '/site', reason: `'${event.site}' is not a site in catalog v${catalog.version}` });
    if (scope && event.site !== scope.site) issues.push({ field: '/site', reason: `device ${scope.device} may only send events for site ${scope.site}` });

    const laneId = 'lane' in event ? event.lane : undefined;
    let lane: Lane | undefined;
    if (laneId !== undefined && site) {
      const found = catalog.lane(laneId);
      if (!found) issues.push({ field: '/lane', reason: `'${laneId}' is not a lane in catalog v${catalog.version}` });
      else if (found.site.id !== site.id) issues.push({ field: '/lane', reason: `lane ${laneId} belongs to ${found.site.id}, not ${site.id}` });
      else lane = found.lane;
    }
    const allowedKinds = laneKindsFor[event.type];
    // A biometric gate sees people (lane events) only, never a truck or container.
    if (lane && lane.kind === 'biometric-gate' && entry.family.name !== 'lane') issues.push({ field: '/lane', reason: `${lane.id} is a gate for people; a ${entry.family.name} event cannot name it` });
    else if (lane && allowedKinds && !allowedKinds.includes(lane.kind)) issues.push({ field: '/lane', reason: `${event.type} cannot happen on a ${lane.kind} lane (${lane.id})` });
    if (lane && event.type === 'lane.person-crossed') {
      if (lane.direction !== laneDirectionOfPerson[event.direction]) issues.push({ field: '/direction', reason: `${lane.id} is an ${lane.direction === 'export' ? 'exit' : 'entry'} gate; the person is on ${event.direction}` });
    } else if (lane && 'direction' in event && lane.direction !== event.direction) issues.push({ field: '/lane', reason: `lane ${lane.id} is an ${lane.direction} lane; the truck is on ${event.direction}` });

    if ('plate' in event) {
      const pattern = event.plateCountry === 'VN' ? vietnamesePlate : chinesePlate;
      if (!pattern.test(event.plate)) issues.push({ field: '/plate', reason: `'${event.plate}' is not a ${event.plateCountry === 'VN' ? 'Vietnamese' : 'Chinese'} plate` });
      (event.containers ?? []).forEach((number, i) => {
        const problem = containerNumberProblem(number);
        if (problem) issues.push({ field: `/containers/${i}`, reason: problem });
      });
    }
    if ('containerNumber' in event) {
      const problem = containerNumberProblem(event.containerNumber);
      if (problem) issues.push({ field: '/containerNumber', reason: problem });
    }
    for (const [field, kind] of Object.entries(zoneFields)) {
      const value = (event as unknown as Record<string, unknown>)[field];
      if (typeof value !== 'string' || !site) continue;
      const zone = catalog.zone(value);
      if (!zone || zone.site.id !== site.id || zone.zone.kind !== kind) issues.push({ field: `/${field}`, reason: `'${value}' is not a ${kind} of ${site.id}` });
    }
    return issues.length > 0 ? { ok: false, issues } : { ok: true, event, family: entry.family };
  };
}

export type EventValidator = ReturnType<typeof createEventValidator>;
