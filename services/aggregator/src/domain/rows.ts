import { clickHouseDateTime, noJourneyFigures, type ConsumedEvent, type ContainerEvent, type FamilyName, type JourneyFigures, type LaneEvent, type SiteCatalog, type TowerEvent, type TruckEvent } from '@tower/shared';

/** The raw table of each family (see infra/clickhouse/migrations/0002_events_and_throughput.sql). */
export const rawTables: Readonly<Record<FamilyName, string>> = { truck: 'truck_events', container: 'container_events', lane: 'lane_events' };

/** What the trackers derived for one event (its journey's figures, its lane's open time); stored on its row. */
export interface Derived extends JourneyFigures {
  openMs: number;
}

/** The derived figures of an event that completes nothing (copy it before changing it). */
export const noDerived: Readonly<Derived> = Object.freeze({ ...noJourneyFigures, openMs: 0 });

export type RawRow = Record<string, string | number | string[]>;

const teuBySize: Readonly<Record<number, number>> = { 20: 1, 40: 2, 45: 2.25 };

/** The raw tables' partition (UTC day of observation): one insert never spans two. */
export function partitionDayOf(ms: number): number {
  return Math.floor(ms / 86_400_000);
}

/** The window dimensions of an event: its lane's kind, and the direction of the truck or lane. */
export interface Dimensions {
  lane: string;
  laneKind: string;
  direction: string;
}

export function dimensionsOf(event: TowerEvent, catalog: SiteCatalog): Dimensions {
  const lane = 'lane' in event && event.lane ? event.lane : '';
  const found = lane ? catalog.lane(lane)?.lane : undefined;
  const direction = 'direction' in event ? event.direction : (found?.direction ?? '');
  return { lane, laneKind: found?.kind ?? '', direction };
}

/**
 * The raw-table row of an event, with its window dimensions (computed once, also used for
 * live windows). Object.assign, not spread: on Node 20, `{ ...common, <13 more> }` takes
 * V8's slow path (~20–30 µs a row), which was most of the aggregator's CPU
 * (loadtests/bench/aggregator-throughput.ts).
 */
export function rawRowOf(consumed: ConsumedEvent, { lane, laneKind, direction }: Dimensions, derived: Derived): RawRow {
  const { event } = consumed;
  const common: RawRow = {
    event_id: event.eventId,
    type: event.type,
    site: event.site,
    lane,
    lane_kind: laneKind,
    direction,
    observed_at: clickHouseDateTime(event.observedAt),
    observed_ms: event.observedAt,
    ingested_ms: consumed.ingestedAt,
    source: event.source,
    schema_version: consumed.schemaVersion,
    kafka_topic: consumed.topic,
    kafka_partition: consumed.partition,
    kafka_offset: consumed.offset.toString(),
  };
  switch (consumed.family) {
    case 'truck': {
      const truck = event as TruckEvent;
      return Object.assign(common, {
        plate: truck.plate,
        plate_country: truck.plateCountry,
        cargo_class: truck.cargoClass ?? '',
        trailer: truck.trailer ?? '',
        containers: truck.containers ?? [],
        gross_kg: truck.type === 'truck.weighed' ? truck.grossKg : 0,
        declared_gross_kg: truck.type === 'truck.gate-in' ? (truck.declaredGrossKg ?? 0) : 0,
        scan_result: truck.type === 'truck.scanned' ? truck.scanResult : '',
        hold_reason: truck.type === 'truck.customs-held' ? truck.holdReason : '',
        declaration_id: truck.type === 'truck.predeclaration-matched' ? truck.declarationId : '',
        confidence: truck.type === 'truck.plate-read' ? truck.confidence : 0,
        clearance_ms: derived.clearanceMs,
        turnaround_ms: derived.turnaroundMs,
        crossed_kg: derived.crossedKg,
        crossed_weight: derived.crossedWeight,
      });
    }
    case 'container': {
      const container = event as ContainerEvent;
      return Object.assign(common, {
        container_number: container.containerNumber,
        size_ft: container.sizeFt,
        teu: teuBySize[container.sizeFt] ?? 0,
        fullness: container.fullness,
        reefer: container.reefer ? 1 : 0,
        vessel: 'vessel' in container ? container.vessel : '',
        berth: 'berth' in container ? container.berth : '',
        crane: 'crane' in container ? container.crane : '',
        from_block: container.type === 'container.yard-moved' ? (container.fromBlock ?? '') : '',
        to_block: container.type === 'container.yard-moved' ? container.toBlock : '',
        customs_status: container.type === 'container.customs-status' ? container.customsStatus : '',
      });
    }
    case 'lane': {
      const laneEvent = event as LaneEvent;
      const queueLength = 'queueLength' in laneEvent ? laneEvent.queueLength : undefined;
      return Object.assign(common, {
        queue_length: queueLength ?? 0,
        has_queue_length: queueLength === undefined ? 0 : 1,
        fault_code: laneEvent.type === 'lane.fault' ? laneEvent.faultCode : '',
        detail: laneEvent.type === 'lane.fault' ? (laneEvent.detail ?? '') : '',
        igv_id: laneEvent.type === 'lane.igv-telemetry' ? laneEvent.igvId : '',
        igv_state: laneEvent.type === 'lane.igv-telemetry' ? laneEvent.igvState : '',
        progress: laneEvent.type === 'lane.igv-telemetry' ? laneEvent.progress : 0,
        battery_pct: laneEvent.type === 'lane.igv-telemetry' ? laneEvent.batteryPct : 0,
        document_kind: laneEvent.type === 'lane.person-crossed' ? laneEvent.documentKind : '',
        verification: laneEvent.type === 'lane.person-crossed' ? laneEvent.verification : '',
        open_ms: derived.openMs,
      });
    }
  }
}
