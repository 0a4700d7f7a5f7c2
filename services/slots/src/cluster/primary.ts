/**
 * The slots service as several processes on one port (SLOTS_API_PROCESSES > 1): this
 * primary forks N API processes, which share the HTTP port (node:cluster hands each new
 * connection to the next one), and ONE duties process (history consumer, check-in
 * consumer, outbox relay, sweeper, webhooks, fleet adoption at start), serves their
 * questions (the whole service's metrics, the duties process's readiness), restarts a
 * process that exits unasked with a growing delay, and on SIGTERM or SIGINT stops the
 * API processes first (intake ends, requests in flight finish), then the duties process
 * (offsets committed, the outbox published), then exits: 0 when every process stopped well.
 */
import cluster, { type Worker } from 'node:cluster';
import { stopDeadlineMs, type Logger } from '@tower/shared';
import { AggregatorRegistry } from 'prom-client';
import { indexEnv, isAsk, roleEnv, type Answer, type Ask, type DutiesReady } from './messages.ts';

export interface PrimarySettings {
  apiProcesses: number;
  /** First wait before a crashed process is started again; doubled at each crash in a row… */
  restartInitialMs: number;
  /** …up to this. A process that ran this long before it exited counts as a first crash again. */
  restartMaxMs: number;
}

interface Place {
  role: 'api' | 'duties';
  index: number;
  worker?: Worker;
  ready: boolean;
  crashesInARow: number;
  startedAt: number;
  restart?: NodeJS.Timeout;
}

const isDutiesReady = (message: unknown): message is DutiesReady => (message as Partial<DutiesReady> | null)?.type === 'tower-slots:duties-ready';

export function runPrimary(settings: PrimarySettings, logger: Logger): void {
  const metrics = new AggregatorRegistry();
  const places: Place[] = [
    { role: 'duties', index: 0, ready: false, crashesInARow: 0, startedAt: 0 },
    ...Array.from({ length: settings.apiProcesses }, (_, i): Place => ({ role: 'api', index: i + 1, ready: false, crashesInARow: 0, startedAt: 0 })),
  ];
  const duties = places[0]!;
  let stopping: string | undefined;
  let failed = false;

  const answer = async (ask: Ask): Promise<Answer> => {
    try {
      if (ask.question === 'metrics') return { type: 'tower-slots:answer', id: ask.id, text: await metrics.clusterMetrics() };
      if (!duties.ready) throw new Error('the duties process is not running');
      return { type: 'tower-slots:answer', id: ask.id, text: 'ready' };
    } catch (error) {
      return { type: 'tower-slots:answer', id: ask.id, error: (error as Error).message };
    }
  };

  const fork = (place: Place) => {
    place.restart = undefined;
    place.ready = false;
    place.startedAt = Date.now();
    const worker = cluster.fork({ [roleEnv]: place.role, [indexEnv]: String(place.index) });
    place.worker = worker;
    const described = { role: place.role, index: place.index, pid: worker.process.pid };
    logger.info(described, 'slots process started');
    worker.on('message', (message: unknown) => {
      if (isDutiesReady(message) && place.role === 'duties') place.ready = true;
      else if (isAsk(message)) void answer(message).then((reply) => worker.isConnected() && worker.send(reply));
    });
    worker.on('exit', (code, signal) => {
      place.worker = undefined;
      place.ready = false;
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

  const exitOf = (place: Place) => new Promise<void>((resolve) => (place.worker ? place.worker.once('exit', () => resolve()) : resolve()));
  const stopAll = async (reason: string) => {
    if (stopping) return logger.warn({ reason }, 'already stopping: ignored');
    stopping = reason;
    logger.info({ reason }, 'stopping the slots processes: API first, then duties');
    const killer = setTimeout(() => {
      failed = true;
      logger.error({ deadlineMs: stopDeadlineMs, left: places.filter((p) => p.worker).map((p) => ({ role: p.role, index: p.index })) }, 'slots processes still running past the stop deadline: killed');
      for (const place of places) place.worker?.process.kill('SIGKILL');
    }, stopDeadlineMs);
    for (const place of places) clearTimeout(place.restart);
    const apis = places.filter((p) => p.role === 'api');
    for (const place of apis) place.worker?.process.kill('SIGTERM');
    await Promise.all(apis.map(exitOf));
    duties.worker?.process.kill('SIGTERM');
    await exitOf(duties);
    clearTimeout(killer);
    logger.info({ failed }, 'slots processes stopped');
    process.exit(failed ? 1 : 0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void stopAll(signal));
  process.on('uncaughtException', (error) => {
    failed = true;
    logger.fatal({ err: error }, 'slots primary failed');
    void stopAll('uncaughtException');
  });

  for (const place of places) fork(place);
}
