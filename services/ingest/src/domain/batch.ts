import type { EventFamily, EventValidator, FieldIssue, TowerEvent } from '@tower/shared';
import type { Device } from './devices.ts';

/** An NDJSON line that is not JSON: kept in place so it is reported, never dropped. */
export class UnparsableLine {
  constructor(readonly reason: string) {}
}

export interface RejectedEvent {
  index: number;
  eventId?: string;
  errors: FieldIssue[];
}

export interface BatchVerdict {
  /** `index`: position in the batch, from 0. */
  accepted: { index: number; event: TowerEvent; family: EventFamily }[];
  rejected: RejectedEvent[];
}

/** Splits a batch into the events that pass validation and the ones that do not, by index. */
export function judgeBatch(items: readonly unknown[], validate: EventValidator, device: Device): BatchVerdict {
  const verdict: BatchVerdict = { accepted: [], rejected: [] };
  const scope = { site: device.site, device: device.id };
  items.forEach((item, index) => {
    if (item instanceof UnparsableLine) {
      verdict.rejected.push({ index, errors: [{ field: '/', reason: item.reason }] });
      return;
    }
    const result = validate(item, scope);
    if (result.ok) {
      verdict.accepted.push({ index, event: result.event, family: result.family });
    } else {
      const eventId = typeof (item as { eventId?: unknown })?.eventId === 'string' ? (item as { eventId: string }).eventId : undefined;
      verdict.rejected.push({ index, ...(eventId ? { eventId } : {}), errors: result.issues });
    }
  });
  return verdict;
}

/** NDJSON: one event per non-blank line; a line that is not JSON becomes an UnparsableLine. */
export function parseNdjson(body: string): unknown[] {
  return body
    .split('\n')
    .map((line, number) => ({ line: line.trim(), number: number + 1 }))
    .filter(({ line }) => line.length > 0)
    .map(({ line, number }) => {
      try {
        return JSON.parse(line) as unknown;
      } catch (error) {
        return new UnparsableLine(`line ${number} is not JSON: ${(error as Error).message}`);
      }
    });
}
