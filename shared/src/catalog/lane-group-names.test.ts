import { describe, expect, it } from 'vitest';
import { bookableLaneKinds } from '../domain/slot-capacity.ts';
import { loadCatalog } from './catalog.ts';
import { laneGroupNames } from './lane-group-names.ts';

describe('lane group names', () => {
  const catalog = loadCatalog();

  it('names a lane group in the three languages as its lanes are named, without their number', () => {
    const site = catalog.site('bac-luan-2')!;
    expect(laneGroupNames(site, 'smart', 'export')).toEqual({ vi: 'Làn chuyên dụng thông minh xuất khẩu', en: 'Smart dedicated lane, export', zh: '出口智能专用通道' });
    expect(laneGroupNames(site, 'igv', 'import')).toEqual({ vi: 'Làn xe tự hành IGV nhập khẩu', en: 'IGV autonomous vehicle lane, import', zh: '进口IGV无人驾驶通道' });
    expect(laneGroupNames(site, 'port-gate', 'export')).toBeUndefined();
  });

  it('gives every bookable lane group of the catalog one name per language that all its lanes share, with no digit left', () => {
    for (const site of catalog.document.sites) {
      for (const lane of site.lanes.filter((l) => bookableLaneKinds.has(l.kind))) {
        const names = laneGroupNames(site, lane.kind, lane.direction)!;
        for (const language of ['vi', 'en', 'zh'] as const) {
          expect(lane.names[language].startsWith(names[language]), `${lane.id} ${language}`).toBe(true);
          expect(lane.names[language].slice(names[language].length), `${lane.id} ${language}`).toMatch(/^[\s,]*\d+$/);
          expect(names[language], `${lane.id} ${language}`).not.toMatch(/\d$/);
        }
      }
    }
  });
});
