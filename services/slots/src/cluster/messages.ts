/**
 * What the slots processes say to each other over the cluster's IPC channel: an API
 * process asks the primary (the whole service's metrics, whether the duties process is
 * up) and gets one answer per question; the duties process tells the primary it is ready.
 */
import cluster from 'node:cluster';

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

export const isAsk = (message: unknown): message is Ask => (message as Partial<Ask> | null)?.type === 'tower-slots:ask';
const isAnswer = (message: unknown): message is Answer => (message as Partial<Answer> | null)?.type === 'tower-slots:answer';

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
