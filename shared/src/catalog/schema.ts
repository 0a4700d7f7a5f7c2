import { Type, type Static } from '@sinclair/typebox';

/** Names in the operators' three languages; Vietnamese first. */
export const Names = Type.Object(
  { vi: Type.String({ minLength: 1 }), en: Type.String({ minLength: 1 }), zh: Type.String({ minLength: 1 }) },
  { additionalProperties: false },
);

/**
 * What a crossing is in law (seeds/README.md cites the source of each site's kind):
 * `land-gate` an international or bilateral gate (cửa khẩu), `auxiliary-gate` a cửa
 * khẩu phụ, `clearance-passage` a lối thông quan, `border-opening` a lối mở,
 * `smart-gate` a passage of the smart-gate pilot, `seaport` a port.
 */
export const siteKinds = ['smart-gate', 'land-gate', 'auxiliary-gate', 'clearance-passage', 'border-opening', 'seaport'] as const;
/** `construction`: being built, no traffic yet (Vạn Ninh). Sites without a phase are operating. */
export const sitePhases = ['operating', 'construction'] as const;
/**
 * `biometric-gate`: an automatic control gate for people (face recognition against the
 * travel document); its direction `export` is exit (xuất cảnh), `import` entry (nhập
 * cảnh), and its service rate is in people per hour. Every other kind serves vehicles.
 */
export const laneKinds = ['smart', 'igv', 'weighbridge', 'scanner', 'checkpoint', 'manual', 'port-gate', 'biometric-gate'] as const;
export const zoneKinds = ['yard', 'warehouse', 'cold-store', 'inspection', 'berth', 'quay-crane', 'yard-block'] as const;
export const directions = ['export', 'import'] as const;

const slug = (description: string) => Type.String({ pattern: '^[a-z0-9]+(-[a-z0-9]+)*$', maxLength: 40, description });

export const Lane = Type.Object(
  {
    id: slug('stable lane id, `<site code>-<kind>-<ex|im>-<n>`'),
    kind: Type.Union(laneKinds.map((k) => Type.Literal(k))),
    direction: Type.Union(directions.map((d) => Type.Literal(d))),
    names: Names,
    serviceRatePerHour: Type.Integer({ minimum: 1, maximum: 3600, description: 'nominal vehicles per hour when open (people per hour at a biometric gate)' }),
  },
  { additionalProperties: false },
);

export const Zone = Type.Object(
  { id: slug('stable zone id'), kind: Type.Union(zoneKinds.map((k) => Type.Literal(k))), names: Names },
  { additionalProperties: false },
);

export const Site = Type.Object(
  {
    id: slug('stable site id'),
    code: Type.String({ pattern: '^[a-z0-9]{2,5}$', description: 'short code, the prefix of lane and zone ids' }),
    kind: Type.Union(siteKinds.map((k) => Type.Literal(k))),
    phase: Type.Optional(Type.Union(sitePhases.map((p) => Type.Literal(p)), { description: 'operating when left out' })),
    economicZone: Type.Optional(slug('id of its border-gate economic zone in `economicZones`; the document’s `zone` when left out')),
    borderOrder: Type.Optional(Type.Integer({ minimum: 1, description: 'position along the border line, west to east, the ports last (for schematics); unique' })),
    district: Type.String({ minLength: 1 }),
    names: Names,
    /** The gate or passage facing it on the Chinese side. */
    counterpart: Type.Optional(Names),
    approxLocation: Type.Object({ lat: Type.Number({ minimum: 20, maximum: 23 }), lon: Type.Number({ minimum: 106, maximum: 109 }) }, { additionalProperties: false }),
    lanes: Type.Array(Lane),
    zones: Type.Array(Zone),
  },
  { additionalProperties: false },
);

export const EconomicZone = Type.Object({ id: slug('stable economic zone id'), names: Names }, { additionalProperties: false });

/**
 * A clearance point (điểm thông quan) the province lists on the border line: where goods
 * may cross, modelled as a site with lanes or only named. Traffic, devices and events
 * exist only at sites; a point with no `site` is on the list and nowhere else.
 */
export const ClearancePoint = Type.Object(
  {
    id: slug('stable id, `cp-<name>`; never a site, lane or zone id'),
    names: Names,
    district: Type.String({ minLength: 1, description: 'the city or district the province lists it under' }),
    economicZone: Type.Optional(slug('id of its border-gate economic zone in `economicZones`; left out where the source names only a district two zones share')),
    site: Type.Optional(slug('the modelled site at this point (Thành Đạt is the Km3+4 border opening); left out: not modelled, no traffic')),
  },
  { additionalProperties: false },
);

export const SiteCatalogDocument = Type.Object(
  {
    $comment: Type.Optional(Type.String()),
    version: Type.Integer({ minimum: 1 }),
    zone: Names,
    economicZones: Type.Optional(Type.Array(EconomicZone, { description: 'the border-gate economic zones the sites belong to' })),
    sites: Type.Array(Site, { minItems: 1 }),
    clearancePoints: Type.Optional(Type.Array(ClearancePoint, { description: 'the clearance points (điểm thông quan) of the province’s list, in its order; seeds/README.md cites it' })),
    retired: Type.Optional(Type.Array(slug('id of a removed site, lane or zone'), { description: 'ids removed from the catalog, never to be used again' })),
  },
  { additionalProperties: false },
);

export type Names = Static<typeof Names>;
export type Lane = Static<typeof Lane>;
export type Zone = Static<typeof Zone>;
export type Site = Static<typeof Site>;
export type SitePhase = (typeof sitePhases)[number];
export type EconomicZone = Static<typeof EconomicZone>;
export type ClearancePoint = Static<typeof ClearancePoint>;
export type SiteCatalogDocument = Static<typeof SiteCatalogDocument>;
export type Direction = (typeof directions)[number];
export type LaneKind = (typeof laneKinds)[number];
