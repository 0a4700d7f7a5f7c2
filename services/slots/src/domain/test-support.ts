/** Lane groups for tests of the one-place-at-a-time rule: two of one site, another direction, two other sites. */
export const zoneLaneGroups = [
  { site: 'bac-luan-2', laneKind: 'smart', direction: 'export' },
  { site: 'bac-luan-2', laneKind: 'igv', direction: 'export' },
  { site: 'bac-luan-2', laneKind: 'smart', direction: 'import' },
  { site: 'van-gia', laneKind: 'port-gate', direction: 'export' },
  { site: 'po-hen', laneKind: 'manual', direction: 'import' },
] as const;

/** A Vietnamese truck of a fleet, as tests register it. */
export const vnTruck = (plate: string) => ({ plate, country: 'VN' as const });
