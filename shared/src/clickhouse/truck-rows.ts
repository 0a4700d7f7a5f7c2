import type { TruckEvent } from '../events/model.ts';
import { sql } from './sql.ts';

/**
 * Stored truck rows read back as the events the journey logic needs: the aggregator
 * rebuilds its journey tracker from them after a restart, and the history API cuts a
 * plate's journeys from them, so both read the same columns the same way.
 */
export const journeyColumns = sql`type, site, plate, plate_country, direction, lane, observed_ms, cargo_class, containers, gross_kg, declared_gross_kg, hold_reason`;

export type TruckRow = Record<string, string | number | string[]>;

/** A row selected with `journeyColumns` as a truck event (only the fields journeys read). */
export function truckEventOfRow(row: TruckRow): TruckEvent {
  const text = (name: string) => String(row[name] ?? '');
  return {
    type: text('type'),
    site: text('site'),
    plate: text('plate'),
    plateCountry: text('plate_country'),
    direction: text('direction'),
    observedAt: Number(row['observed_ms']),
    ...(text('lane') ? { lane: text('lane') } : {}),
    ...(text('cargo_class') ? { cargoClass: text('cargo_class') } : {}),
    containers: Array.isArray(row['containers']) ? row['containers'] : [],
    grossKg: Number(row['gross_kg']),
    ...(Number(row['declared_gross_kg']) > 0 ? { declaredGrossKg: Number(row['declared_gross_kg']) } : {}),
    holdReason: text('hold_reason'),
  } as unknown as TruckEvent;
}
