import type { Static } from '@sinclair/typebox';
import type { Names, Site } from './schema.ts';

const laneNumber = /[\s,]*\d+$/;
const stem = (name: string) => name.replace(laneNumber, '');

/**
 * A lane group's names (a site's lanes of one kind and direction) in the three
 * languages, from the catalog's own lane names: a lane's name without its number
 * (`Làn chuyên dụng thông minh xuất khẩu 1` → the group `Làn chuyên dụng thông minh xuất
 * khẩu`; the catalog test checks a group's lanes agree on it). Undefined when the site has
 * no such lane.
 */
export function laneGroupNames(site: Site, laneKind: string, direction: string): Static<typeof Names> | undefined {
  const lane = site.lanes.find((l) => l.kind === laneKind && l.direction === direction);
  return lane && { vi: stem(lane.names.vi), en: stem(lane.names.en), zh: stem(lane.names.zh) };
}
