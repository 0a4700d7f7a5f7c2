/**
 * An Artillery reporter (CUSTOM_REPORTERS, bundled to CommonJS like the processor): it
 * appends every 10-second period Artillery reports to the file named by
 * TOWER_PERIODS_FILE, one JSON line each, while the run goes. The runner reads them to
 * stop a breakpoint ramp at the break, and keeps them when Artillery is stopped before
 * it writes its own JSON output.
 */
import fs from 'node:fs';
import type { ArtilleryPeriod } from './figures.ts';

interface Events {
  on(event: 'stats', listener: (stats: ArtilleryPeriod) => void): void;
}

export default function periodReporter(events: Events): object {
  const file = process.env['TOWER_PERIODS_FILE'];
  if (file) {
    events.on('stats', ({ period, firstMetricAt, counters, summaries }) => {
      fs.appendFileSync(file, `${JSON.stringify({ period, firstMetricAt, counters, summaries })}\n`);
    });
  }
  return {};
}
