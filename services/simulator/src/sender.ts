import type { Logger, TowerEvent } from '@tower/shared';

/**
 * Sends simulated events through the ingest API exactly as devices do: one gateway
 * key per site, batches of at most `batchSize`, JSON. 429 and 503 (and network
 * errors) are retried with capped backoff, keeping the batch; a 207 or 400 is a bug
 * in the simulator and is logged with the reasons. Nothing is dropped: while events
 * wait, `buffered` grows and the caller stops advancing the simulation.
 */
export interface SenderStats {
  sent: number;
  rejected: number;
  retries: number;
  byType: Record<string, number>;
  lastError?: string;
  lastSuccessAt?: number;
}

export class IngestSender {
  private readonly queues = new Map<string, TowerEvent[]>();
  private readonly inFlight = new Set<string>();
  private readonly backoffUntil = new Map<string, number>();
  readonly stats: SenderStats = { sent: 0, rejected: 0, retries: 0, byType: {} };

  constructor(
    private readonly ingestUrl: string,
    private readonly keysBySite: ReadonlyMap<string, string>,
    private readonly batchSize: number,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  get buffered(): number {
    let n = 0;
    for (const queue of this.queues.values()) n += queue.length;
    return n;
  }

  enqueue(events: readonly TowerEvent[]): void {
    for (const event of events) {
      let queue = this.queues.get(event.site);
      if (!queue) this.queues.set(event.site, (queue = []));
      queue.push(event);
    }
  }

  /** Starts one request per site that has events and no request in flight. */
  flush(): Promise<void[]> {
    const sends: Promise<void>[] = [];
    for (const [site, queue] of this.queues) {
      if (queue.length === 0 || this.inFlight.has(site) || (this.backoffUntil.get(site) ?? 0) > this.now()) continue;
      sends.push(this.sendSite(site, queue));
    }
    return Promise.all(sends);
  }

  private async sendSite(site: string, queue: TowerEvent[]): Promise<void> {
    const key = this.keysBySite.get(site);
    if (!key) {
      this.logger.error({ site }, 'no device key for this site in the credentials; its events are kept, not sent');
      this.backoffUntil.set(site, this.now() + 60_000);
      return;
    }
    const batch = queue.slice(0, this.batchSize);
    this.inFlight.add(site);
    try {
      const response = await fetch(`${this.ingestUrl}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(batch),
        signal: AbortSignal.timeout(30_000),
      });
      if (response.status === 200 || response.status === 207 || response.status === 400) {
        queue.splice(0, batch.length);
        this.backoffUntil.delete(site);
        const body = (await response.json()) as { accepted?: number; rejected?: unknown[]; errors?: unknown[] };
        const rejected = response.status === 400 ? batch.length : (body.rejected?.length ?? 0);
        this.stats.sent += batch.length - rejected;
        this.stats.rejected += rejected;
        this.stats.lastSuccessAt = this.now();
        for (const event of batch) this.stats.byType[event.type] = (this.stats.byType[event.type] ?? 0) + 1;
        if (rejected > 0) this.logger.error({ site, status: response.status, problems: (body.rejected ?? body.errors ?? []).slice(0, 5) }, 'ingest refused simulated events');
        return;
      }
      const retryAfter = Number(response.headers.get('retry-after') ?? '1');
      this.retryLater(site, Number.isFinite(retryAfter) ? retryAfter * 1000 : 1000, `ingest answered ${response.status}`);
      await response.body?.cancel();
    } catch (error) {
      this.retryLater(site, 2000, (error as Error).message);
    } finally {
      this.inFlight.delete(site);
    }
  }

  private retryLater(site: string, delayMs: number, reason: string): void {
    this.stats.retries += 1;
    this.stats.lastError = reason;
    this.backoffUntil.set(site, this.now() + Math.min(delayMs, 30_000));
    this.logger.warn({ site, reason, retryInMs: delayMs }, 'ingest not taking events; keeping them and retrying');
  }
}
