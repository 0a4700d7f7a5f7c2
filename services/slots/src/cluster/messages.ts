/**
 * What the slots processes say to each other over the cluster's IPC channel: an API
 * process asks the primary (the whole service's metrics, whether the duties process is
 * up) and gets one answer per question; the duties process tells the primary it is ready;
 * the primary asks each process for its metrics and orders each to stop.
 */
import cluster from 'node:cluster';
import { Gauge, type Registry } from 'prom-client';
import { stopDeadlineMs } from '@tower/shared';

/** The environment a forked process reads its role and place from. */
export const roleEnv = 'SLOTS_PROCESS_ROLE';
export const indexEnv = 'SLOTS_PROCESS_INDEX';

/** `all`: one process does everything (SLOTS_API_PROCESSES=1); otherwise N `api` processes and one `duties` process. */
export type SlotsRole = 'all' | 'api' | 'duties';

export type Question = 'metrics' | 'duties';

export interface Ask {
  type: 'tower-slots:ask';
  id: number;
  question: Question;
}

export interface Answer {
  type: 'tower-slots:answer';
  id: number;
  /** The metrics text, or `ready` for the duties process; absent with `error`. */
  text?: string;
  error?: string;
}

export interface DutiesReady {
  type: 'tower-slots:duties-ready';
}

/** A forked process answers the primary's metrics requests from now on. */
export interface Joined {
  type: 'tower-slots:joined';
}

/** The primary's order to stop (signals to a forked process are ignored: the primary stops them in order). */
export interface StopOrder {
  type: 'tower-slots:stop';
}

/** One process's metrics, as prom-client's AggregatorRegistry.aggregate takes them. */
export type ProcessMetrics = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

export interface MetricsRequest {
  type: 'tower-slots:metrics-request';
  id: number;
}

export interface MetricsReply {
  type: 'tower-slots:metrics';
  id: number;
  metrics: ProcessMetrics;
}

/**
 * Each stop phase's share of the stop deadline: the API processes' (intake ends, requests
 * in flight and idle keep-alive connections drained), then the duties process's (offsets
 * committed, the outbox published). A phase past its share is killed and logged; the next
 * still has its own.
 */
export const stopShareMs = { api: 20_000, duties: stopDeadlineMs - 20_000 } as const;

const typed =
  <T extends { type: string }>(type: T['type']) =>
  (message: unknown): message is T =>
    (message as Partial<T> | null)?.type === type;
export const isJoined = typed<Joined>('tower-slots:joined');
export const isStopOrder = typed<StopOrder>('tower-slots:stop');
export const isMetricsRequest = typed<MetricsRequest>('tower-slots:metrics-request');
export const isMetricsReply = typed<MetricsReply>('tower-slots:metrics');
export const isDutiesReady = typed<DutiesReady>('tower-slots:duties-ready');
export const isAsk = typed<Ask>('tower-slots:ask');
const isAnswer = typed<Answer>('tower-slots:answer');

/** This process's role: `all` unless the primary forked it as an API or duties process. */
export function currentRole(): SlotsRole {
  if (cluster.isPrimary) return 'all';
  const role = process.env[roleEnv];
  if (role !== 'api' && role !== 'duties') throw new Error(`${roleEnv}: expected api or duties in a forked slots process, got ${role ?? 'nothing'}`);
  return role;
}

/** The primary's answers, for a forked process; each question waits at most `timeoutMs`. */
export class PrimaryChannel {
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();

  constructor(private readonly timeoutMs = 5000) {
    process.on('message', (message: unknown) => {
      if (!isAnswer(message)) return;
      const waiting = this.waiting.get(message.id);
      if (!waiting) return;
      this.waiting.delete(message.id);
      clearTimeout(waiting.timer);
      if (message.text !== undefined) waiting.resolve(message.text);
      else waiting.reject(new Error(message.error ?? 'no answer'));
    });
  }

  ask(question: Question): Promise<string> {
    const send = process.send?.bind(process);
    if (!send) return Promise.reject(new Error('not a forked slots process'));
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`the primary did not answer ${question} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      const ask: Ask = { type: 'tower-slots:ask', id, question };
      send(ask);
    });
  }
}

/** How many slots processes there are and how many a scrape holds (one starting or gone is left out). */
export function countProcesses(registry: Registry, processes: number, answered: number): void {
  new Gauge({ name: 'tower_slots_processes', help: 'Slots processes the service runs (API processes and the duties process)', registers: [registry] }).set(processes);
  new Gauge({ name: 'tower_slots_processes_answered', help: 'Slots processes whose metrics are in this scrape (one starting or gone is left out)', registers: [registry] }).set(answered);
}
