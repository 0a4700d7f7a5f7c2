/** The simulator process: traffic for every site of the catalog, through the ingest API. */
import fs from 'node:fs';
import path from 'node:path';
import { Lifecycle, createLogger, createMetricsRegistry, loadCatalog, loadConfigOrExit } from '@tower/shared';
import { buildApp } from './app.ts';
import { simulatorEnv } from './config.ts';
import { TrafficSimulation } from './domain/traffic.ts';
import { IngestSender } from './sender.ts';

const config = loadConfigOrExit('simulator', simulatorEnv);
const logger = createLogger({ service: 'simulator', level: config.LOG_LEVEL });
const lifecycle = new Lifecycle(logger);
lifecycle.installSignalHandlers();

const credentials = JSON.parse(fs.readFileSync(path.resolve(config.CREDENTIALS_FILE), 'utf8')) as { devices: { site: string; apiKey: string }[] };
const keysBySite = new Map(credentials.devices.map((d) => [d.site, d.apiKey]));
const catalog = loadCatalog(path.resolve(config.CATALOG_FILE));
const simulation = new TrafficSimulation(catalog, { seed: config.SIM_SEED, rate: config.SIM_RATE, start: Date.now() });
const sender = new IngestSender(config.INGEST_URL, keysBySite, config.SIM_BATCH_EVENTS, logger);
const ingestUrl = config.INGEST_URL;

const { app, start, stop } = await buildApp({
  logger,
  simulation,
  sender,
  metrics: createMetricsRegistry('simulator'),
  settings: { seed: config.SIM_SEED, rate: config.SIM_RATE, tickMs: config.SIM_TICK_MS, maxBuffered: config.SIM_MAX_BUFFERED },
  readiness: [
    {
      name: 'ingest',
      check: async () => {
        const response = await fetch(`${ingestUrl}/readyz`, { signal: AbortSignal.timeout(1500) });
        if (!response.ok) throw new Error(`ingest /readyz answered ${response.status}`);
      },
    },
  ],
});

lifecycle
  .onShutdown({ name: 'simulation (stop generating, send what is buffered)', run: stop, timeoutMs: 15_000 })
  .onShutdown({ name: 'http', run: () => app.close() });

await app.listen({ port: config.PORT, host: config.HOST });
start();
logger.info({ port: config.PORT, seed: config.SIM_SEED, rate: config.SIM_RATE, sites: keysBySite.size }, 'simulator running');
