import { Type, type Static, type TLiteral, type TObject, type TProperties, type TUnion } from '@sinclair/typebox';

/**
 * The event model, declared once. Each event type is a TypeBox object; from these come
 * the TypeScript types, the HTTP validation and OpenAPI of the ingest API, and (by
 * `avro.ts`) one Avro record per family, i.e. per Kafka topic.
 *
 * Evolution: add fields only, optional (they become Avro fields with a null default),
 * then snapshot a new Avro version (`npm run schemas:snapshot`). Enumerations travel as
 * Avro strings, so adding an event type or a cargo class never breaks an old reader.
 */

export const uuidPattern = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
/** Vietnamese plates (`14C-123.45`, `14C12345`, `29LD-12345`) and Chinese plates (`桂P·12345`, `桂PD12345`). */
export const vietnamesePlatePattern = '^[0-9]{2}[A-Z]{1,2}[0-9]?-?[0-9]{3}\\.?[0-9]{2}$';
export const chinesePlatePattern = '^[\\u4e00-\\u9fa5][A-Z]·?[A-Z0-9]{5,6}$';
/** ISO 6346: owner code (3 letters), category (U, J or Z), 6-digit serial, check digit. */
export const containerNumberPattern = '^[A-Z]{3}[UJZ][0-9]{7}$';

type Literals<T extends readonly string[]> = TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }>;
const literals = <const T extends readonly string[]>(values: T, description?: string): Literals<T> =>
  Type.Union(values.map((v) => Type.Literal(v)), description ? { description } : {}) as unknown as Literals<T>;

export const cargoClasses = ['farm-produce', 'frozen-seafood', 'electronics', 'consumer-goods', 'machinery', 'textiles', 'solar-cells', 'other'] as const;
export type CargoClass = (typeof cargoClasses)[number];
export const holdReasons = ['document-mismatch', 'physical-inspection', 'phytosanitary', 'tax-assessment', 'other'] as const;
export const customsStatuses = ['pending', 'hold', 'released', 'inspected'] as const;
export const igvStates = ['idle', 'loading', 'moving', 'unloading', 'charging', 'fault'] as const;

const siteId = Type.String({ minLength: 1, maxLength: 40, description: 'site id from the catalog' });
const laneId = Type.String({ minLength: 1, maxLength: 40, description: 'lane id from the catalog; must belong to the site' });
const zoneId = (what: string) => Type.String({ minLength: 1, maxLength: 40, description: `${what}: zone id from the catalog` });

const common = {
  eventId: Type.String({ pattern: uuidPattern, description: 'UUID chosen by the device; re-sending the same id is harmless' }),
  site: siteId,
  observedAt: Type.Integer({ minimum: 0, description: 'device time of the observation, ms since the epoch' }),
  source: Type.String({ minLength: 1, maxLength: 64, description: 'id of the device that observed the event' }),
};

const truckCommon = {
  plate: Type.String({ minLength: 5, maxLength: 16, description: 'Vietnamese or Chinese plate, as read' }),
  plateCountry: literals(['VN', 'CN'] as const, 'country of the plate'),
  direction: literals(['export', 'import'] as const, 'direction of the crossing'),
  cargoClass: Type.Optional(literals(cargoClasses)),
  trailer: Type.Optional(Type.String({ minLength: 1, maxLength: 16, description: 'trailer plate' })),
  containers: Type.Optional(Type.Array(Type.String({ pattern: containerNumberPattern }), { maxItems: 3, description: 'ISO 6346 numbers of the containers carried' })),
  lane: Type.Optional(laneId),
};

const containerCommon = {
  containerNumber: Type.String({ pattern: containerNumberPattern, description: 'ISO 6346 container number with a valid check digit' }),
  sizeFt: Type.Union([Type.Literal(20), Type.Literal(40), Type.Literal(45)], { description: 'length in feet (1, 2 or 2.25 TEU)' }),
  fullness: literals(['full', 'empty'] as const),
  reefer: Type.Boolean({ description: 'refrigerated container' }),
  lane: Type.Optional(laneId),
};

const laneCommon = { lane: laneId };

function eventType<F extends string, T extends string, P extends TProperties>(family: F, type: T, properties: P, description: string) {
  return Type.Object({ type: Type.Literal(type), ...common, ...properties }, { additionalProperties: false, title: type, description, 'x-family': family });
}

const withLane = { lane: laneId };
/** A truck's gross weight (truck and load), whole kg: weighed or declared, within the same bounds. */
const grossKg = (description: string) => Type.Integer({ minimum: 1000, maximum: 80000, description });

export const truckEventTypes = [
  eventType('truck', 'truck.arrived', { ...truckCommon }, 'the truck arrived at the site'),
  eventType('truck', 'truck.queue-joined', { ...truckCommon, ...withLane }, 'the truck joined the queue of a lane'),
  eventType('truck', 'truck.plate-read', { ...truckCommon, ...withLane, confidence: Type.Number({ minimum: 0, maximum: 1, description: 'ANPR confidence' }) }, 'a camera read the plate'),
  eventType('truck', 'truck.predeclaration-matched', { ...truckCommon, declarationId: Type.String({ minLength: 1, maxLength: 40 }) }, 'the electronic pre-declaration was matched'),
  eventType('truck', 'truck.weighed', { ...truckCommon, ...withLane, grossKg: grossKg('gross weight on the weighbridge, kg') }, 'the truck was weighed'),
  eventType('truck', 'truck.scanned', { ...truckCommon, ...withLane, scanResult: literals(['clear', 'inspect'] as const) }, 'the cargo was scanned'),
  eventType('truck', 'truck.customs-held', { ...truckCommon, holdReason: literals(holdReasons) }, 'customs put the truck on hold'),
  eventType('truck', 'truck.customs-released', { ...truckCommon }, 'customs released the truck'),
  eventType(
    'truck',
    'truck.gate-in',
    { ...truckCommon, ...withLane, declaredGrossKg: Type.Optional(grossKg('gross weight stated on the electronic customs declaration, kg: counted where no weighbridge weighed the truck')) },
    'the truck passed the gate into the control zone',
  ),
  eventType('truck', 'truck.border-crossed', { ...truckCommon, ...withLane }, 'the truck crossed the border line'),
  eventType('truck', 'truck.gate-out', { ...truckCommon, ...withLane }, 'the truck left the control zone: clearance complete'),
] as const;

export const containerEventTypes = [
  eventType('container', 'container.discharged', { ...containerCommon, vessel: Type.String({ minLength: 1, maxLength: 64 }), berth: zoneId('berth'), crane: zoneId('quay crane') }, 'discharged from a vessel'),
  eventType('container', 'container.loaded', { ...containerCommon, vessel: Type.String({ minLength: 1, maxLength: 64 }), berth: zoneId('berth'), crane: zoneId('quay crane') }, 'loaded onto a vessel'),
  eventType('container', 'container.yard-moved', { ...containerCommon, fromBlock: Type.Optional(zoneId('yard block moved from')), toBlock: zoneId('yard block moved to') }, 'moved within the yard'),
  eventType('container', 'container.gate-in', { ...containerCommon, ...withLane }, 'entered the port through a gate lane'),
  eventType('container', 'container.gate-out', { ...containerCommon, ...withLane }, 'left the port through a gate lane'),
  eventType('container', 'container.customs-status', { ...containerCommon, customsStatus: literals(customsStatuses) }, 'customs status changed'),
] as const;

const queueLength = Type.Integer({ minimum: 0, maximum: 10000, description: 'vehicles waiting' });

export const personDirections = ['exit', 'entry'] as const;
export const personDocuments = ['passport', 'border-pass', 'other'] as const;
export const personVerifications = ['biometric', 'officer'] as const;
export type PersonDirection = (typeof personDirections)[number];

export const laneEventTypes = [
  eventType('lane', 'lane.opened', { ...laneCommon }, 'the lane opened'),
  eventType('lane', 'lane.closed', { ...laneCommon }, 'the lane closed'),
  eventType('lane', 'lane.congested', { ...laneCommon, queueLength }, 'the lane is congested'),
  eventType('lane', 'lane.fault', { ...laneCommon, faultCode: Type.String({ minLength: 1, maxLength: 32 }), detail: Type.Optional(Type.String({ maxLength: 200 })) }, 'equipment fault on the lane'),
  eventType('lane', 'lane.cleared', { ...laneCommon }, 'a congestion or fault cleared'),
  eventType('lane', 'lane.queue-sampled', { ...laneCommon, queueLength }, 'periodic queue length sample'),
  eventType(
    'lane',
    'lane.igv-telemetry',
    {
      ...laneCommon,
      igvId: Type.String({ minLength: 1, maxLength: 32 }),
      igvState: literals(igvStates),
      progress: Type.Number({ minimum: 0, maximum: 1, description: 'position along the lane, 0 = start, 1 = end' }),
      batteryPct: Type.Number({ minimum: 0, maximum: 100 }),
    },
    'position and state of an IGV autonomous vehicle',
  ),
  eventType(
    'lane',
    'lane.person-crossed',
    {
      ...laneCommon,
      direction: literals(personDirections, 'exit (xuất cảnh) through an exit gate, entry (nhập cảnh) through an entry gate'),
      documentKind: literals(personDocuments, 'the travel document shown: passport, border pass (giấy thông hành) or other'),
      verification: literals(personVerifications, 'biometric: the gate matched the face to the document; officer: a border officer checked the person by hand (fallback)'),
    },
    'one person passed a biometric gate (a count, never personal data: no name, no document number, no image)',
  ),
] as const;

export type TruckEvent = Static<(typeof truckEventTypes)[number]>;
export type ContainerEvent = Static<(typeof containerEventTypes)[number]>;
export type LaneEvent = Static<(typeof laneEventTypes)[number]>;
export type TowerEvent = TruckEvent | ContainerEvent | LaneEvent;
export type EventTypeName = TowerEvent['type'];

export type FamilyName = 'truck' | 'container' | 'lane';

export interface EventFamily {
  name: FamilyName;
  /** The Kafka topic of the family (see the topic catalog). */
  topic: string;
  /** The Avro record name. */
  recordName: string;
  types: readonly TObject[];
  /**
   * The Kafka key: one truck's journey (plate), one container, one lane stays in
   * order on one partition.
   */
  keyOf(event: TowerEvent): string;
}

export const eventFamilies: readonly EventFamily[] = [
  { name: 'truck', topic: 'tower.trucks.v1', recordName: 'vn.mongcai.tower.TruckEvent', types: truckEventTypes, keyOf: (e) => (e as TruckEvent).plate },
  { name: 'container', topic: 'tower.containers.v1', recordName: 'vn.mongcai.tower.ContainerEvent', types: containerEventTypes, keyOf: (e) => (e as ContainerEvent).containerNumber },
  { name: 'lane', topic: 'tower.lanes.v1', recordName: 'vn.mongcai.tower.LaneEvent', types: laneEventTypes, keyOf: (e) => `${e.site}/${(e as LaneEvent).lane}` },
];

/** The catalog topic of each family. */
export const familyTopics: Readonly<Record<FamilyName, string>> = Object.fromEntries(eventFamilies.map((f) => [f.name, f.topic])) as Record<FamilyName, string>;

/** Every event type's schema by its `type` name, with its family. */
export const eventTypeSchemas: ReadonlyMap<string, { schema: TObject; family: EventFamily }> = new Map(
  eventFamilies.flatMap((family) => family.types.map((schema) => [(schema.properties['type'] as unknown as TLiteral<string>).const, { schema, family }] as const)),
);

export const eventTypeNames = [...eventTypeSchemas.keys()];
