import { describe, expect, it } from 'vitest';
import { CatalogError, buildCatalog, loadCatalog } from './catalog.ts';

const catalog = loadCatalog();

describe('the site catalog in seeds/', () => {
  it('covers the zone: Bắc Luân II, Vạn Ninh and the other crossings', () => {
    const ids = catalog.document.sites.map((s) => s.id);
    expect(ids).toEqual(expect.arrayContaining(['bac-luan-2', 'van-ninh', 'bac-luan-1', 'km3-4-hai-yen', 'ka-long', 'po-hen', 'hoanh-mo', 'bac-phong-sinh', 'van-gia']));
  });

  it('gives Bắc Luân II smart lanes both ways, IGV lanes, weighbridges, scanners and checkpoints', () => {
    const lanes = catalog.site('bac-luan-2')!.lanes;
    for (const kind of ['smart', 'igv', 'weighbridge', 'scanner', 'checkpoint'] as const) {
      for (const direction of ['export', 'import'] as const) {
        expect(lanes.some((l) => l.kind === kind && l.direction === direction), `${kind} ${direction}`).toBe(true);
      }
    }
    // A smart lane clears a truck in about 15 s, as at Hữu Nghị.
    expect(catalog.lane('bl2-smart-ex-1')?.lane.serviceRatePerHour).toBe(240);
  });

  it('looks lanes and zones up with their site', () => {
    expect(catalog.lane('vn-port-gate-im-1')?.site.id).toBe('van-ninh');
    expect(catalog.zone('vn-quay-crane-2')?.zone.kind).toBe('quay-crane');
    expect(catalog.lane('nowhere')).toBeUndefined();
  });
});

describe('catalog validation', () => {
  const base = () => structuredClone(catalog.document);

  it('names the path of a shape error', () => {
    const doc = base() as unknown as { sites: { lanes: { serviceRatePerHour: unknown }[] }[] };
    doc.sites[0]!.lanes[0]!.serviceRatePerHour = -5;
    expect(() => buildCatalog(doc)).toThrow(/\/sites\/0\/lanes\/0\/serviceRatePerHour/);
  });

  it('refuses duplicate ids, foreign prefixes and lanes that do not fit the site', () => {
    const doc = base();
    doc.sites[1]!.lanes[0]!.id = 'bl2-smart-ex-1';
    doc.sites[2]!.lanes.push({ ...doc.sites[0]!.lanes[0]!, id: 'bl1-smart-ex-9' });
    let error: unknown;
    try {
      buildCatalog(doc);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CatalogError);
    const issues = (error as CatalogError).issues.join('\n');
    expect(issues).toContain("id 'bl2-smart-ex-1' is already used at /sites/0/lanes/0");
    expect(issues).toContain("'bl2-smart-ex-1' must start with the site code 'vn-'");
    expect(issues).toContain('a smart lane cannot be at a land-gate site');
  });
});
