import { describe, expect, it } from 'vitest';
import { CatalogError, buildCatalog, loadCatalog, sitePhase } from './catalog.ts';
import type { SiteCatalogDocument } from './schema.ts';

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

/**
 * The facts of ../shared/domain/FACTS.md and its articles (seed-articles/<n>, line) as
 * the catalog must hold them; seeds/README.md quotes each.
 */
describe('the catalog agrees with the press', () => {
  const site = (id: string) => catalog.site(id)!;

  it('has the kind of crossing each site is', () => {
    // 001:3 "Cửa khẩu quốc tế Móng Cái – Đông Hưng (cầu Bắc Luân); cửa khẩu song phương Hoành Mô – Động Trung"
    expect(site('bac-luan-1').kind).toBe('land-gate');
    expect(site('hoanh-mo').kind).toBe('land-gate');
    // 001:3 "lối mở Pò Hèn – Thán Sản"; "Lối mở Km3+4 phường Hải Yên"
    expect(site('po-hen').kind).toBe('border-opening');
    expect(site('km3-4-hai-yen').kind).toBe('border-opening');
    // 001:3 "cửa khẩu phụ Ka Long (TP Móng Cái)"
    expect(site('ka-long').kind).toBe('auxiliary-gate');
    // 001:3 "2 lối thông quan Bắc Phong Sinh – Lý Hỏa"
    expect(site('bac-phong-sinh').kind).toBe('clearance-passage');
    expect(site('bac-phong-sinh').lanes).toHaveLength(2);
    // 004:7 and 004:15: the smart gate is built at Bắc Luân II
    expect(site('bac-luan-2').kind).toBe('smart-gate');
  });

  it('names the Chinese gate each land crossing faces', () => {
    // 001:3 the gate pairs Móng Cái – Đông Hưng (Bắc Luân I and II), Hoành Mô – Động Trung, Bắc Phong Sinh – Lý Hỏa, Pò Hèn – Thán Sản
    expect(site('bac-luan-1').counterpart?.zh).toContain('东兴');
    expect(site('bac-luan-2').counterpart?.zh).toContain('东兴');
    expect(site('hoanh-mo').counterpart?.zh).toContain('峒中');
    expect(site('bac-phong-sinh').counterpart?.zh).toContain('里火');
    expect(site('po-hen').counterpart?.zh).toContain('滩散');
  });

  it('puts each site in its own border-gate economic zone', () => {
    // 001:2 "KKT cửa khẩu Bắc Phong Sinh thuộc huyện Hải Hà và KKT cửa khẩu Hoành Mô – Đồng Văn thuộc huyện Bình Liêu"
    expect(catalog.economicZoneOf(site('hoanh-mo')).vi).toBe('Khu kinh tế cửa khẩu Hoành Mô – Đồng Văn');
    expect(catalog.economicZoneOf(site('bac-phong-sinh')).vi).toBe('Khu kinh tế cửa khẩu Bắc Phong Sinh');
    for (const id of ['bac-luan-1', 'bac-luan-2', 'km3-4-hai-yen', 'ka-long', 'po-hen', 'van-gia', 'van-ninh']) {
      expect(catalog.economicZoneOf(site(id)).vi, id).toBe('Khu kinh tế cửa khẩu Móng Cái');
    }
  });

  it('shows Vạn Ninh as being built and Vạn Gia as operating', () => {
    // 002:33 "việc xây dựng Bến cảng tổng hợp Vạn Ninh"; 001:3 "cảng biển (cảng Vạn Gia)"
    expect(sitePhase(site('van-ninh'))).toBe('construction');
    expect(sitePhase(site('van-gia'))).toBe('operating');
    expect(catalog.document.sites.filter((s) => sitePhase(s) === 'construction').map((s) => s.id)).toEqual(['van-ninh']);
  });

  it('has no truck lanes at Bắc Luân I, only biometric gates for people both ways, and retires the truck lanes\' ids', () => {
    // 004:13 Bắc Luân I: "nhận diện sinh trắc học, hệ thống cổng kiểm soát tự động … cho người xuất nhập cảnh"; 004:15 goods at Bắc Luân II
    const lanes = site('bac-luan-1').lanes;
    expect(lanes.length).toBeGreaterThan(0);
    expect(lanes.every((l) => l.kind === 'biometric-gate')).toBe(true);
    // FACTS.md: entries ≈ exits (Sep 2025), so as many gates each way
    expect(lanes.filter((l) => l.direction === 'export')).toHaveLength(lanes.filter((l) => l.direction === 'import').length);
    expect(catalog.document.sites.filter((s) => s.lanes.some((l) => l.kind === 'biometric-gate')).map((s) => s.id)).toEqual(['bac-luan-1']);
    expect(catalog.document.retired).toEqual(expect.arrayContaining(['bl1-manual-ex-1', 'bl1-manual-im-1']));
  });

  it('lists the 13 clearance points of the province in the article’s order, each in its district and zone, linked to the site modelled there', () => {
    // 001:3 "13 điểm thông quan (lối mở biên giới) gồm: Lục Lầm, Thành Đạt (km3+4), Đại Vai, Lục Chắn, Pò Hèn, cửa khẩu phụ Ka Long (TP Móng Cái);
    // Mốc 1342+300 (Vắn Tốc), Mốc 1344+500 (huyện Hải Hà); Đồng Văn, Mốc 1322-500 (Nà Kép), Mốc 1306, Mốc 1326, Mốc 1302 (huyện Bình Liêu)"
    const points = catalog.document.clearancePoints ?? [];
    expect(points.map((p) => [p.names.vi, p.district, p.economicZone ?? null, p.site ?? null])).toEqual([
      ['Điểm thông quan Lục Lầm', 'Móng Cái', 'mong-cai', null],
      ['Điểm thông quan Thành Đạt (Km3+4)', 'Móng Cái', 'mong-cai', 'km3-4-hai-yen'],
      ['Điểm thông quan Đại Vai', 'Móng Cái', 'mong-cai', null],
      ['Điểm thông quan Lục Chắn', 'Móng Cái', 'mong-cai', null],
      ['Điểm thông quan Pò Hèn', 'Móng Cái', 'mong-cai', 'po-hen'],
      ['Cửa khẩu phụ Ka Long', 'Móng Cái', 'mong-cai', 'ka-long'],
      // 001:2 Hải Hà holds both the Bắc Phong Sinh zone and 9 communes of the Móng Cái zone: the article gives no zone.
      ['Mốc 1342+300 (Vắn Tốc)', 'Hải Hà', null, null],
      ['Mốc 1344+500', 'Hải Hà', null, null],
      // 001:2 "KKT cửa khẩu Hoành Mô – Đồng Văn thuộc huyện Bình Liêu", the district's only border-gate economic zone
      ['Điểm thông quan Đồng Văn', 'Bình Liêu', 'hoanh-mo-dong-van', null],
      ['Mốc 1322-500 (Nà Kép)', 'Bình Liêu', 'hoanh-mo-dong-van', null],
      ['Mốc 1306', 'Bình Liêu', 'hoanh-mo-dong-van', null],
      ['Mốc 1326', 'Bình Liêu', 'hoanh-mo-dong-van', null],
      ['Mốc 1302', 'Bình Liêu', 'hoanh-mo-dong-van', null],
    ]);
    // The sites with a clearance point are those the list names; the other crossings are gates, passages or ports.
    const linked = points.flatMap((p) => (p.site ? [catalog.site(p.site)!] : []));
    expect(linked.map((s) => s.kind)).toEqual(['border-opening', 'border-opening', 'auxiliary-gate']);
  });

  it('orders the crossings along the border, west to east, the ports last', () => {
    expect(catalog.alongBorder().map((s) => s.id)).toEqual(['hoanh-mo', 'bac-phong-sinh', 'po-hen', 'km3-4-hai-yen', 'ka-long', 'bac-luan-1', 'bac-luan-2', 'van-gia', 'van-ninh']);
    const land = catalog.alongBorder().filter((s) => s.kind !== 'seaport');
    expect(land.every((s, i) => i === 0 || s.approxLocation.lon > land[i - 1]!.approxLocation.lon)).toBe(true);
  });
});

describe('catalog validation', () => {
  const base = () => structuredClone(catalog.document);
  /** What buildCatalog refuses in a document, one issue a line ('' when it loads). */
  const issuesOf = (doc: SiteCatalogDocument) => {
    try {
      buildCatalog(doc);
      return '';
    } catch (e) {
      return (e as CatalogError).issues.join('\n');
    }
  };

  it('still loads a catalog written before version 2 (no phase, economic zones, border order or retired ids)', () => {
    const old = base() as Partial<SiteCatalogDocument> & { sites: Record<string, unknown>[] };
    delete old.economicZones;
    delete old.retired;
    delete old.clearancePoints;
    for (const s of old.sites) {
      delete s['phase'];
      delete s['economicZone'];
      delete s['borderOrder'];
    }
    const loaded = buildCatalog({ ...old, version: 1 });
    expect(loaded.document.sites.every((s) => sitePhase(s) === 'operating')).toBe(true);
    expect(loaded.economicZoneOf(loaded.site('hoanh-mo')!)).toEqual(old.zone);
    expect(loaded.alongBorder().map((s) => s.id)).toEqual(old.sites.map((s) => s['id']));
  });

  it('refuses a retired id used again, an unknown economic zone and a border position taken twice', () => {
    const doc = base();
    doc.sites[0]!.lanes[0]!.id = 'bl2-smart-ex-1';
    doc.retired = [...(doc.retired ?? []), 'bl2-smart-ex-1'];
    doc.sites[1]!.economicZone = 'nowhere';
    doc.sites[2]!.borderOrder = doc.sites[3]!.borderOrder!;
    const issues = issuesOf(doc);
    expect(issues).toContain("/sites/0/lanes/0: id 'bl2-smart-ex-1' is already used at /retired/");
    expect(issues).toContain("/sites/1/economicZone: 'nowhere' is not in economicZones");
    expect(issues).toMatch(/\/sites\/3\/borderOrder: \d+ is already bac-luan-1's/);
  });

  it('refuses a clearance point on an unknown site, in another district or zone than its site, on a site already linked, or with an id in use', () => {
    const doc = base();
    const points = doc.clearancePoints!;
    points[0]!.site = 'nowhere';
    points[2]!.site = 'po-hen';
    points[6]!.site = 'hoanh-mo';
    points[8]!.site = 'bac-phong-sinh';
    points[9]!.id = 'bac-luan-2';
    points[10]!.economicZone = 'nowhere';
    const issues = issuesOf(doc);
    expect(issues).toContain("/clearancePoints/0/site: 'nowhere' is not a site of the catalog");
    expect(issues).toContain('/clearancePoints/4/site: po-hen is already the site of cp-dai-vai');
    expect(issues).toContain("/clearancePoints/6/district: 'Hải Hà', but its site hoanh-mo is in 'Bình Liêu'");
    expect(issues).toContain("/clearancePoints/8/district: 'Bình Liêu', but its site bac-phong-sinh is in 'Hải Hà'");
    expect(issues).toContain("/clearancePoints/8/economicZone: 'hoanh-mo-dong-van', but its site bac-phong-sinh is in 'bac-phong-sinh'");
    expect(issues).toContain("/clearancePoints/9: id 'bac-luan-2' is already used at /sites/0");
    expect(issues).toContain("/clearancePoints/10/economicZone: 'nowhere' is not in economicZones");
  });

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

  it('puts gates for people only at a land gate', () => {
    const doc = base();
    const bl1 = doc.sites.find((s) => s.id === 'bac-luan-1')!;
    const km34 = doc.sites.find((s) => s.id === 'km3-4-hai-yen')!;
    km34.lanes.push({ ...bl1.lanes[0]!, id: 'km34-biometric-gate-ex-1' });
    expect(() => buildCatalog(doc)).toThrow(/a biometric-gate lane cannot be at a border-opening site/);
  });

  it('still loads a version 2 catalog, written before the biometric gates', () => {
    const old = base();
    old.version = 2;
    old.sites.find((s) => s.id === 'bac-luan-1')!.lanes = [];
    expect(buildCatalog(old).site('bac-luan-1')!.lanes).toEqual([]);
  });
});
