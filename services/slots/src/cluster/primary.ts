/**
 * The slots service as several processes on one port (SLOTS_API_PROCESSES > 1): this
 * primary forks ONE duties process (history consumer, check-in consumer, outbox relay,
 * sweeper, webhooks, fleet adoption at start) and, once it is ready, N API processes,
 * which share the HTTP port (node:cluster hands each new connection to the next one). It
 * serves their questions (the whole service's metrics, gathered from the processes that
 * answer; the duties process's readiness), restarts a process that exits unasked with a
 * growing delay, and on SIGTERM or SIGINT (which the forked processes ignore: a control
 * group's or a terminal's signal reaches them all at once) orders the API processes to
 * stop first (intake ends, requests in flight finish, keep-alive connections drained),
 * then the duties process (offsets committed, the outbox published), each phase within
 * its own share of the deadline, then exits: 0 when every process stopped well.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '@tower/shared';
import { AggregatorRegistry, type PrometheusContentType } from 'prom-client';
import { countProcesses, indexEnv, isAsk, isDutiesReady, isJoined, isMetricsReply, roleEnv, stopShareMs, type Answer, type Ask, type MetricsRequest, type ProcessMetrics, type StopOrder } from './messages.ts';
import { stopPhase, type Stoppable } from './stop.ts';

export interface PrimarySettings {
  apiProcesses: number;
  /** First wait before a crashed process is started again; doubled at each crash in a row… */
  restartInitialMs: number;
  /** …up to this. A process that ran this long before it exited counts as a first crash again. */
  restartMaxMs: number;
  /** Longest wait for one process's metrics in a scrape; one that does not answer in time is left out of it. */
  scrapeTimeoutMs: number;
}

interface Place {
  role: 'api' | 'duties';
  index: number;
  worker?: Worker;
  ready: boolean;
  /** It answers metrics requests (a process starting does not yet). */
  joined: boolean;
  crashesInARow: number;
  startedAt: number;
  restart?: NodeJS.Timeout;
}

export function runPrimary(settings: PrimarySettings, logger: Logger): void {
  const places: Place[] = [
    { role: 'duties', index: 0, ready: false, joined: false, crashesInARow: 0, startedAt: 0 },
    ...Array.from({ length: settings.apiProcesses }, (_, i): Place => ({ role: 'api', index: i + 1, ready: false, joined: false, crashesInARow: 0, startedAt: 0 })),
  ];
  const duties = places[0]!;
  const apis = places.filter((p) => p.role === 'api');
  let apisStarted = false;
  let stopping: string | undefined;
  let failed = false;
  const scrapes = new Map<number, (metrics: ProcessMetrics) => void>();
  let nextScrape = 0;

  /** One process's metrics, or nothing when it exits or does not answer in time. */
  const metricsOf = (worker: Worker) =>
    new Promise<ProcessMetrics | undefined>((resolve) => {
      const id = nextScrape++;
      const done = (metrics: ProcessMetrics | undefined) => {
        scrapes.delete(id);
        clearTimeout(timer);
        worker.off('exit', gone);
        resolve(metrics);
      };
      const gone = () => done(undefined);
      const timer = setTimeout(gone, settings.scrapeTimeoutMs);
      worker.once('exit', gone);
      scrapes.set(id, done);
      const request: MetricsRequest = { type: 'tower-slots:metrics-request', id };
      worker.send(request, (error: Error | null) => error && gone());
    });
  /** The whole service's metrics: those of the processes that answered, and how many did. */
  const scrape = async () => {
    const asked = places.flatMap((p) => (p.worker?.isConnected() && p.joined ? [p.worker] : []));
    const answered = (await Promise.all(asked.map(metricsOf))).filter((m): m is ProcessMetrics => m !== undefined);
    const registry = AggregatorRegistry.aggregate<PrometheusContentType>(answered);
    registry.setDefaultLabels({ service: 'slots' });
    countProcesses(registry, places.length, answered.length);
    return registry.metrics();
  };

  const answer = async (ask: Ask): Promise<Answer> => {
    try {
      if (ask.question === 'metrics') return { type: 'tower-slots:answer', id: ask.id, text: await scrape() };
      if (!duties.ready) throw new Error('the duties process is not running');
      return { type: 'tower-slots:answer', id: ask.id, text: 'ready' };
    } catch (error) {
      return { type: 'tower-slots:answer', id: ask.id, error: (error as Error).message };
    }
  };

  const fork = (place: Place) => {
    place.restart = undefined;
    place.ready = false;
    place.joined = false;
    place.startedAt = Date.now();
    const worker = cluster.fork({ [roleEnv]: place.role, [indexEnv]: String(place.index) });
    place.worker = worker;
    const described = { role: place.role, index: place.index, pid: worker.process.pid };
    logger.info(described, 'slots process started');
    worker.on('message', (message: unknown) => {
      if (isDutiesReady(message) && place.role === 'duties') {
        place.ready = true;
        // The API processes start once the duties process is ready (fleet adoption done), and once.
        if (!apisStarted && !stopping) {
          apisStarted = true;
          for (const api of apis) fork(api);
        }
      } else if (isJoined(message)) place.joined = true;
      else if (isMetricsReply(message)) scrapes.get(message.id)?.(message.metrics);
      else if (isAsk(message)) void answer(message).then((reply) => worker.isConnected() && worker.send(reply));
    });
    worker.on('exit', (code, signal) => {
      place.worker = undefined;
      place.ready = false;
      place.joined = false;
      if (stopping) {
        if (code !== 0) failed = true;
        logger.info({ ...described, code, signal }, 'slots process stopped');
        return;
      }
      if (Date.now() - place.startedAt >= settings.restartMaxMs) place.crashesInARow = 0;
      const delayMs = Math.min(settings.restartMaxMs, settings.restartInitialMs * 2 ** place.crashesInARow++);
      logger.error({ ...described, code, signal, restartInMs: delayMs, crashesInARow: place.crashesInARow }, 'slots process exited unasked: starting it again');
      place.restart = setTimeout(() => fork(place), delayMs);
    });
  };

  const stopOrder: StopOrder = { type: 'tower-slots:stop' };
  const stoppable = (places: Place[]): Stoppable[] =>
    places.flatMap(({ worker, role, index }) =>
      worker
        ? [
            {
              name: `${role} ${index}`,
              // A process whose channel is gone exits by itself (node:cluster ends a worker that loses its primary).
              order: () => worker.isConnected() && worker.send(stopOrder),
              kill: () => worker.process.kill('SIGKILL'),
              exited: new Promise<void>((resolve) => (worker.process.exitCode !== null || worker.process.signalCode !== null ? resolve() : worker.once('exit', () => resolve()))),
            },
          ]
        : [],
    );
  const stopAll = async (reason: string) => {
    if (stopping) return logger.warn({ reason }, 'already stopping: ignored');
    stopping = reason;
    logger.info({ reason, shareMs: stopShareMs }, 'stopping the slots processes: API first, then duties');
    for (const place of places) clearTimeout(place.restart);
    if (!(await stopPhase('api', stoppable(apis), stopShareMs.api, logger))) failed = true;
    if (!(await stopPhase('duties', stoppable([duties]), stopShareMs.duties, logger))) failed = true;
    logger.info({ failed }, 'slots processes stopped');
    process.exit(failed ? 1 : 0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void stopAll(signal));
  process.on('uncaughtException', (error) => {
    failed = true;
    logger.fatal({ err: error }, 'slots primary failed');
    void stopAll('uncaughtException');
  });

  fork(duties);
}
