import { laneGroupNames, parseIsoInstant, vietnamDate, vietnamIso, vietnamWindowLabel, type SiteCatalog } from '@tower/shared';
import type { Places } from '../desk.ts';
import { InvalidInput } from '../desk-errors.ts';
import type { WindowView } from './schemas.ts';

/**
 * An instant a request gave either way (ms since the epoch, or ISO 8601 with its offset:
 * the schema let only those through) as ms; a date not in the calendar is refused naming
 * `field` as the caller gave it.
 */
export function instantOf(value: number | string, field: string): number {
  if (typeof value === 'number') return value;
  const parsed = parseIsoInstant(value);
  if (!parsed.ok) throw new InvalidInput([{ field, reason: parsed.reason }]);
  return parsed.ms;
}

/** The same, for an optional input. */
export const optionalInstantOf = (value: number | string | undefined, field: string) => (value === undefined ? undefined : instantOf(value, field));

/** A window's places as firms read them: times in Vietnam time, its label, why it is closed, the site's and lane group's names. */
export function windowView(catalog: SiteCatalog, site: string, places: Places): WindowView {
  const known = catalog.site(site);
  if (!known) throw new Error(`site ${site} is not in the catalog`);
  const closedReason = places.closed ? 'closed-by-operator' : places.capacity === 0 ? 'no-capacity' : null;
  return {
    ...places,
    closed: closedReason !== null,
    closedReason,
    windowStartIso: vietnamIso(places.windowStart),
    windowEndIso: vietnamIso(places.windowEnd),
    label: vietnamWindowLabel(places.windowStart, places.windowEnd),
    date: vietnamDate(places.windowStart),
    siteNames: known.names,
    laneGroupNames: laneGroupNames(known, places.laneKind, places.direction) ?? known.names,
  };
}
