import fs from 'node:fs';
import path from 'node:path';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { SiteCatalogDocument, type Lane, type Names, type Site, type SitePhase, type Zone } from './schema.ts';

export class CatalogError extends Error {
  constructor(
    readonly source: string,
    readonly issues: string[],
  ) {
    super(`site catalog ${source} is invalid:\n${issues.map((i) => `  ${i}`).join('\n')}`);
    this.name = 'CatalogError';
  }
}

/** The validated catalog with lookups by id. */
export interface SiteCatalog {
  version: number;
  document: SiteCatalogDocument;
  site(id: string): Site | undefined;
  /** The lane and the site it belongs to. */
  lane(id: string): { lane: Lane; site: Site } | undefined;
  zone(id: string): { zone: Zone; site: Site } | undefined;
  /** The names of the border-gate economic zone the site belongs to. */
  economicZoneOf(site: Site): Names;
  /** The sites along the border line, west to east, the ports last; sites without an order at the end, as listed. */
  alongBorder(): Site[];
}

/** Operating unless the catalog says otherwise (catalogs before version 2 have no phase). */
export function sitePhase(site: Site): SitePhase {
  return site.phase ?? 'operating';
}

const checkDocument = TypeCompiler.Compile(SiteCatalogDocument);

/** Lane kinds that only exist at certain kinds of site. */
const laneKindSites: Partial<Record<Lane['kind'], Site['kind'][]>> = {
  smart: ['smart-gate'],
  igv: ['smart-gate'],
  'port-gate': ['seaport'],
  // Gates for people stand where people cross: an international or bilateral gate (Bắc Luân I).
  'biometric-gate': ['land-gate'],
};

/**
 * Validates a catalog document (shape, then meaning: unique ids everywhere, retired ids
 * never used again, lane and zone ids prefixed by their site's code, lane kinds that
 * fit the site, economic zones that exist, border positions used once, clearance points
 * linked to a site at most once and in that site's district and zone) and indexes it.
 */
export function buildCatalog(document: unknown, source = 'document'): SiteCatalog {
  const shapeIssues = [...checkDocument.Errors(document)].map((e) => `${e.path || '/'}: ${e.message}`);
  if (shapeIssues.length > 0) throw new CatalogError(source, shapeIssues.slice(0, 20));
  const doc = document as SiteCatalogDocument;

  const issues: string[] = [];
  const seen = new Map<string, string>();
  const claim = (id: string, where: string) => {
    const previous = seen.get(id);
    if (previous) issues.push(`${where}: id '${id}' is already used at ${previous}`);
    else seen.set(id, where);
  };
  const sites = new Map<string, Site>();
  const lanes = new Map<string, { lane: Lane; site: Site }>();
  const zones = new Map<string, { zone: Zone; site: Site }>();
  const codes = new Set<string>();
  (doc.retired ?? []).forEach((id, r) => claim(id, `/retired/${r} (retired ids are never used again)`));
  const economicZones = new Map((doc.economicZones ?? []).map((z) => [z.id, z.names]));
  const orders = new Map<number, string>();
  doc.sites.forEach((site, s) => {
    claim(site.id, `/sites/${s}`);
    if (codes.has(site.code)) issues.push(`/sites/${s}/code: code '${site.code}' is used by another site`);
    codes.add(site.code);
    if (site.economicZone !== undefined && !economicZones.has(site.economicZone)) issues.push(`/sites/${s}/economicZone: '${site.economicZone}' is not in economicZones`);
    if (site.borderOrder !== undefined) {
      const other = orders.get(site.borderOrder);
      if (other) issues.push(`/sites/${s}/borderOrder: ${site.borderOrder} is already ${other}'s`);
      orders.set(site.borderOrder, site.id);
    }
    sites.set(site.id, site);
    site.lanes.forEach((lane, l) => {
      const where = `/sites/${s}/lanes/${l}`;
      claim(lane.id, where);
      if (!lane.id.startsWith(`${site.code}-`)) issues.push(`${where}/id: '${lane.id}' must start with the site code '${site.code}-'`);
      const allowed = laneKindSites[lane.kind];
      if (allowed && !allowed.includes(site.kind)) issues.push(`${where}/kind: a ${lane.kind} lane cannot be at a ${site.kind} site`);
      lanes.set(lane.id, { lane, site });
    });
    site.zones.forEach((zone, z) => {
      const where = `/sites/${s}/zones/${z}`;
      claim(zone.id, where);
      if (!zone.id.startsWith(`${site.code}-`)) issues.push(`${where}/id: '${zone.id}' must start with the site code '${site.code}-'`);
      zones.set(zone.id, { zone, site });
    });
  });
  const linked = new Map<string, string>();
  (doc.clearancePoints ?? []).forEach((point, p) => {
    const where = `/clearancePoints/${p}`;
    claim(point.id, where);
    if (point.economicZone !== undefined && !economicZones.has(point.economicZone)) issues.push(`${where}/economicZone: '${point.economicZone}' is not in economicZones`);
    if (point.site === undefined) return;
    const site = sites.get(point.site);
    if (!site) issues.push(`${where}/site: '${point.site}' is not a site of the catalog`);
    else {
      if (site.district !== point.district) issues.push(`${where}/district: '${point.district}', but its site ${site.id} is in '${site.district}'`);
      if (point.economicZone !== undefined && point.economicZone !== site.economicZone) issues.push(`${where}/economicZone: '${point.economicZone}', but its site ${site.id} is in '${site.economicZone ?? '(the document’s zone)'}'`);
    }
    if (linked.has(point.site)) issues.push(`${where}/site: ${point.site} is already the site of ${linked.get(point.site)}`);
    linked.set(point.site, point.id);
  });
  if (issues.length > 0) throw new CatalogError(source, issues);

  return {
    version: doc.version,
    document: doc,
    site: (id) => sites.get(id),
    lane: (id) => lanes.get(id),
    zone: (id) => zones.get(id),
    economicZoneOf: (site) => (site.economicZone !== undefined ? economicZones.get(site.economicZone) : undefined) ?? doc.zone,
    alongBorder: () => [...doc.sites].sort((a, b) => (a.borderOrder ?? Infinity) - (b.borderOrder ?? Infinity)),
  };
}

export const defaultCatalogPath = path.resolve(import.meta.dirname, '../../../seeds/site-catalog.json');

export function loadCatalog(file = defaultCatalogPath): SiteCatalog {
  let document: unknown;
  try {
    document = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CatalogError(file, [(error as Error).message]);
  }
  return buildCatalog(document, file);
}
