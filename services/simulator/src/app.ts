import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { Counter, Gauge } from 'prom-client';
import { httpPart, installProblemHandler, installSecurityHeaders, partOf, registerOpsRoutes, serverOptions, withoutRequestLogs, type ListenOn, type Logger, type Part, type ReadinessCheck } from '@tower/shared';
import type { TowerEvent } from '@tower/shared';
import type { SlotBooker } from './slot-booker.ts';
import type { IngestSender } from './sender.ts';
import type { SlotDemand } from './domain/slot-demand.ts';
import type { TrafficSimulation } from './domain/traffic.ts';
import type { SimProfile } from './domain/profiles.ts';

export interface SimulatorDependencies {
  logger: Logger;
  simulation: TrafficSimulation;
  sender: IngestSender;
  metrics: Registry;
  readiness: ReadinessCheck[];
  settings: { profile: SimProfile; seed: number; rate: number; tickMs: number; maxBuffered: number };
  /**
   * Firms booking slots for trucks before they come: the simulation then runs
   * `lookaheadMs` ahead of the clock, and each event is sent when its time comes.
   */
  slots?: { demand: SlotDemand; booker: SlotBooker; lookaheadMs: number };
  now?: () => number;
  /** Where to listen (main.ts); tests that inject leave it out. */
  listen?: ListenOn;
}

/**
 * The simulator's process: advances the simulation every tick, hands the events to the
 * sender, and serves its status. Its parts: the HTTP server, then the simulation (its
 * start begins ticking; its stop stops generating and sends what is buffered).
 */
export async function buildApp(deps: SimulatorDependencies): Promise<{ app: FastifyInstance; parts: Part[] }> {
  const now = deps.now ?? Date.now;
  const { simulation, sender, settings } = deps;
  const app = Fastify({ ...serverOptions(), loggerInstance: deps.logger as FastifyBaseLogger, logController: withoutRequestLogs() });
  installProblemHandler(app);
  installSecurityHeaders(app);
  registerOpsRoutes(app, { metrics: deps.metrics, readiness: deps.readiness });

  let simulatedUntil = now();
  let paused = false;
  const lookaheadMs = deps.slots?.lookaheadMs ?? 0;
  /** Events simulated ahead of the clock, in time order, sent when their time comes. */
  const ahead: TowerEvent[] = [];
  new Gauge({ name: 'tower_simulator_buffered_events', help: 'events waiting for the ingest API', registers: [deps.metrics], collect() { this.set(sender.buffered); } });
  // The sender keeps the running count; the counter reads it at scrape.
  new Counter({ name: 'tower_simulator_events_sent_total', help: 'events accepted by the ingest API', registers: [deps.metrics], collect() { this.reset(); this.inc(sender.stats.sent); } });

  app.get('/v1/status', async () => ({
    profile: settings.profile,
    seed: settings.seed,
    rate: settings.rate,
    simulatedUntil: new Date(simulatedUntil).toISOString(),
    paused,
    buffered: sender.buffered,
    ...sender.stats,
    ...(deps.slots ? { slotBookings: { ...deps.slots.booker.stats, queued: deps.slots.booker.queued } } : {}),
  }));

  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    paused = sender.buffered >= settings.maxBuffered;
    if (!paused) {
      const clock = now();
      simulatedUntil = clock + lookaheadMs;
      const simulated = simulation.advanceTo(simulatedUntil);
      if (deps.slots) deps.slots.booker.enqueue(deps.slots.demand.plan(simulated));
      ahead.push(...simulated);
      let due = 0;
      while (due < ahead.length && ahead[due]!.observedAt <= clock) due += 1;
      sender.enqueue(ahead.splice(0, due));
    }
    void sender.flush();
    void deps.slots?.booker.flush();
  };
  const ticking = {
    start: () => {
      timer = setInterval(tick, settings.tickMs);
    },
    stop: async () => {
      clearInterval(timer);
      // Events simulated ahead of the clock are dropped: they have not happened yet.
      ahead.length = 0;
      const deadline = now() + 10_000;
      while (sender.buffered > 0 && now() < deadline) {
        await sender.flush();
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
  return { app, parts: [httpPart('http', app, deps.listen), partOf('simulation (stop generating, send what is buffered)', ticking, { stopTimeoutMs: 15_000 })] };
}
