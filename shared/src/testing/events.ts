import { randomUUID } from 'node:crypto';
import type { ContainerEvent, LaneEvent, TowerEvent, TruckEvent } from '../events/model.ts';

/**
 * One valid event of every type, at Bắc Luân II and Vạn Ninh (a person crossing at
 * Bắc Luân I's biometric gate), observed `at` (ms).
 * For tests; every call makes new event ids.
 */
export function sampleEvents(at = Date.now()): TowerEvent[] {
  const truck = { site: 'bac-luan-2', observedAt: at, source: 'BL2-ANPR-01', plate: '14C-123.45', plateCountry: 'VN', direction: 'export', cargoClass: 'farm-produce' } as const;
  const trucks: TruckEvent[] = [
    { ...truck, eventId: randomUUID(), type: 'truck.arrived' },
    { ...truck, eventId: randomUUID(), type: 'truck.queue-joined', lane: 'bl2-smart-ex-1' },
    { ...truck, eventId: randomUUID(), type: 'truck.plate-read', lane: 'bl2-smart-ex-1', confidence: 0.98 },
    { ...truck, eventId: randomUUID(), type: 'truck.predeclaration-matched', declarationId: 'TK-305123456' },
    { ...truck, eventId: randomUUID(), type: 'truck.weighed', lane: 'bl2-weighbridge-ex-1', grossKg: 31_500, containers: ['CSQU3054383'] },
    { ...truck, eventId: randomUUID(), type: 'truck.scanned', lane: 'bl2-scanner-ex-1', scanResult: 'clear' },
    { ...truck, eventId: randomUUID(), type: 'truck.customs-held', holdReason: 'phytosanitary' },
    { ...truck, eventId: randomUUID(), type: 'truck.customs-released' },
    { ...truck, eventId: randomUUID(), type: 'truck.gate-in', lane: 'bl2-smart-ex-1' },
    { ...truck, eventId: randomUUID(), type: 'truck.border-crossed', lane: 'bl2-smart-ex-1' },
    { ...truck, eventId: randomUUID(), type: 'truck.gate-out', lane: 'bl2-smart-ex-1' },
  ];
  const container = { site: 'van-ninh', observedAt: at, source: 'VN-TOS', containerNumber: 'CSQU3054383', sizeFt: 40, fullness: 'full', reefer: false } as const;
  const containers: ContainerEvent[] = [
    { ...container, eventId: randomUUID(), type: 'container.discharged', vessel: 'HAI AN 68', berth: 'vn-berth-1', crane: 'vn-quay-crane-1' },
    { ...container, eventId: randomUUID(), type: 'container.loaded', vessel: 'HAI AN 68', berth: 'vn-berth-1', crane: 'vn-quay-crane-2' },
    { ...container, eventId: randomUUID(), type: 'container.yard-moved', fromBlock: 'vn-yard-block-a1', toBlock: 'vn-yard-block-b1' },
    { ...container, eventId: randomUUID(), type: 'container.gate-in', lane: 'vn-port-gate-ex-1' },
    { ...container, eventId: randomUUID(), type: 'container.gate-out', lane: 'vn-port-gate-im-1' },
    { ...container, eventId: randomUUID(), type: 'container.customs-status', customsStatus: 'released' },
  ];
  const lane = { site: 'bac-luan-2', observedAt: at, source: 'BL2-LANE-CTL', lane: 'bl2-smart-ex-1' } as const;
  const lanes: LaneEvent[] = [
    { ...lane, eventId: randomUUID(), type: 'lane.opened' },
    { ...lane, eventId: randomUUID(), type: 'lane.closed' },
    { ...lane, eventId: randomUUID(), type: 'lane.congested', queueLength: 42 },
    { ...lane, eventId: randomUUID(), type: 'lane.fault', faultCode: 'BARRIER-STUCK', detail: 'exit barrier did not open' },
    { ...lane, eventId: randomUUID(), type: 'lane.cleared' },
    { ...lane, eventId: randomUUID(), type: 'lane.queue-sampled', queueLength: 7 },
    { ...lane, eventId: randomUUID(), type: 'lane.igv-telemetry', lane: 'bl2-igv-ex-1', igvId: 'IGV-07', igvState: 'moving', progress: 0.4, batteryPct: 81.5 },
    {
      site: 'bac-luan-1',
      observedAt: at,
      source: 'BL1-EGATE-EX-1',
      eventId: randomUUID(),
      type: 'lane.person-crossed',
      lane: 'bl1-biometric-gate-ex-1',
      direction: 'exit',
      documentKind: 'border-pass',
      verification: 'biometric',
    },
  ];
  return [...trucks, ...containers, ...lanes];
}
