/** The simulator process: traffic for every site of the catalog, through the ingest API. */
import fs from 'node:fs';
import path from 'node:path';
import { Lifecycle, createLogger, createMetricsRegistry, loadCatalog, loadConfigOrExit, roundTheClockPlan } from '@tower/shared';
import { buildApp } from './app.ts';
import { simulatorEnv } from './config.ts';
import { trafficProfiles } from './domain/profiles.ts';
import { TrafficSimulation } from './domain/traffic.ts';
import { IngestSender } from './sender.ts';
import { SlotBooker } from './slot-booker.ts';
import { SlotDemand } from './domain/slot-demand.ts';

const config = loadConfigOrExit('simulator', simulatorEnv);
const logger = createLogger({ service: 'simulator', level: config.LOG_LEVEL });
const lifecycle = new Lifecycle(logger);
lifecycle.installSignalHandlers();

const credentials = JSON.parse(fs.readFileSync(path.resolve(config.CREDENTIALS_FILE), 'utf8')) as { devices: { site: string; apiKey: string }[]; access?: { role: string; token: string }[] };
const keysBySite = new Map(credentials.devices.map((d) => [d.site, d.apiKey]));
const catalog = loadCatalog(path.resolve(config.CATALOG_FILE));
const simulation = new TrafficSimulation(catalog, { seed: config.SIM_SEED, rate: config.SIM_RATE, peopleRate: config.SIM_PEOPLE_RATE, start: Date.now(), profile: trafficProfiles[config.SIM_PROFILE] });
const sender = new IngestSender(config.INGEST_URL, keysBySite, config.SIM_BATCH_EVENTS, logger);
const ingestUrl = config.INGEST_URL;
const firmKeys = (credentials.access ?? []).filter((a) => a.role === 'firm').map((a) => a.token);
const slots =
  config.SIM_SLOT_SHARE_PERCENT > 0 && firmKeys.length > 0
    ? {
        demand: new SlotDemand(roundTheClockPlan(catalog.document), { share: config.SIM_SLOT_SHARE_PERCENT / 100, windowMs: config.SLOT_WINDOW_MINUTES * 60_000, seed: config.SIM_SEED }),
        booker: new SlotBooker(config.SLOTS_URL, firmKeys, logger),
        lookaheadMs: config.SIM_LOOKAHEAD_MINUTES * 60_000,
      }
    : undefined;

const { parts } = await buildApp({
  logger,
  simulation,
  sender,
  metrics: createMetricsRegistry('simulator'),
  settings: { profile: config.SIM_PROFILE, seed: config.SIM_SEED, rate: config.SIM_RATE, tickMs: config.SIM_TICK_MS, maxBuffered: config.SIM_MAX_BUFFERED },
  ...(slots ? { slots } : {}),
  readiness: [
    {
      name: 'ingest',
      check: async () => {
        const response = await fetch(`${ingestUrl}/readyz`, { signal: AbortSignal.timeout(1500) });
        if (!response.ok) throw new Error(`ingest /readyz answered ${response.status}`);
      },
    },
  ],
  listen: { port: config.PORT, host: config.HOST },
});
await lifecycle.startOrExit('simulator', parts);
logger.info({ port: config.PORT, profile: config.SIM_PROFILE, seed: config.SIM_SEED, rate: config.SIM_RATE, sites: keysBySite.size, slotBookingFirms: slots ? firmKeys.length : 0 }, 'simulator running');
