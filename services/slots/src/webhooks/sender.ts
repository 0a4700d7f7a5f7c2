import { createHash } from 'node:crypto';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { vietnamIso, type Logger } from '@tower/shared';
import { givenUp, retryDelayMs, type RetryPolicy } from './backoff.ts';
import { deliveriesOf } from './fan-out.ts';
import { postOnce } from './post.ts';
import { signatureOf } from './signing.ts';
import type { DeliveryAttempt, QueuedDelivery, QueueRef, StoredEndpoint, WebhookStore } from './store.ts';
import { checkEndpointUrl } from './url.ts';

export interface SenderSettings {
  retry: RetryPolicy;
  /** Consecutive failed attempts after which an endpoint is paused. */
  pauseAfter: number;
  timeoutMs: number;
  maxResponseBytes: number;
  /** Sends in flight, in all and per firm: one firm's slow or many endpoints cannot hold up the others. */
  concurrency: number;
  perFirmConcurrency: number;
  pollMs: number;
  allowLoopbackHttp: boolean;
}

/**
 * The `endpoint.paused` event: the firm's endpoint, why and when it was paused, and how to
 * resume it. Told to the firm's other active endpoints that subscribe to it.
 */
export function pausedEventOf(endpoint: StoredEndpoint, reason: string, at: number) {
  const id = `evt_${createHash('sha256').update(`endpoint.paused|${endpoint.id}|${at}`).digest('hex').slice(0, 24)}`;
  return {
    id,
    type: 'endpoint.paused' as const,
    occurredAt: vietnamIso(at),
    endpoint: { id: endpoint.id, url: endpoint.url, description: endpoint.description, state: 'paused' as const, pausedReason: reason, pausedAt: at, pausedAtIso: vietnamIso(at), resume: `POST /v1/webhooks/${endpoint.id}:resume` },
  };
}

/**
 * Sends the queued deliveries: every `pollMs` (and as soon as a send ends) it takes the
 * queues that are due (a booking's deliveries to one endpoint, in order) and sends each
 * one's head, signed. A 2xx delivers it and makes the queue's next due at once; anything
 * else is retried with backoff (`retry`) until it is given up, and `pauseAfter` failures
 * in a row pause the endpoint. A queue is leased while its head is sent; a sender that
 * dies mid-send leaves it to be taken again when the lease ends, so a delivery is sent
 * at least once (receivers dedupe by the event id).
 */
export class WebhookSender {
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private round: Promise<void> | undefined;
  private readonly inFlight = new Map<string, number>();
  private readonly sends = new Set<Promise<void>>();
  private total = 0;
  private readonly attempts: Counter<'outcome'>;
  private readonly duration: Histogram;
  private readonly paused: Counter;

  constructor(
    private readonly store: WebhookStore,
    private readonly settings: SenderSettings,
    private readonly logger: Logger,
    metrics: Registry,
    private readonly refused: (delivery: QueuedDelivery) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.attempts = new Counter({ name: 'tower_slots_webhook_attempts_total', help: 'Webhook delivery attempts by outcome: delivered, retrying, failed (given up)', labelNames: ['outcome'], registers: [metrics] });
    this.duration = new Histogram({ name: 'tower_slots_webhook_attempt_duration_seconds', help: 'Time of one webhook delivery attempt, from the request to the receiver’s status (or the timeout)', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [metrics] });
    this.paused = new Counter({ name: 'tower_slots_webhook_endpoints_paused_total', help: 'Webhook endpoints paused after failing deliveries in a row', registers: [metrics] });
    const inFlight = () => this.total;
    new Gauge({
      name: 'tower_slots_webhook_sends_in_flight',
      help: 'Webhook deliveries being sent now',
      registers: [metrics],
      collect() {
        this.set(inFlight());
      },
    });
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops taking queues and waits for the sends in flight (each bounded by the timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round;
    await Promise.all([...this.sends]);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.runRound(), delayMs);
    this.timer.unref();
  }

  private async runRound(): Promise<void> {
    if (this.round) return;
    this.round = this.take()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'webhook sender: taking due deliveries failed; trying again'))
      .finally(() => {
        this.round = undefined;
        this.schedule(this.settings.pollMs);
      });
    await this.round;
  }

  /**
   * Each firm's due queues, up to what the firm may still send at once: one firm's backlog
   * is never in front of another's. The firms are taken from a random one on, so when all
   * sends are in use no firm is always last.
   */
  private async take(): Promise<void> {
    const now = this.now();
    const firms = await this.store.firms();
    const from = Math.floor(Math.random() * firms.length);
    for (const firm of [...firms.slice(from), ...firms.slice(0, from)]) {
      const room = this.settings.perFirmConcurrency - (this.inFlight.get(firm) ?? 0);
      if (room > 0 && !this.stopped && this.total < this.settings.concurrency) await this.takeOf(firm, room, now);
    }
  }

  private async takeOf(firm: string, room: number, now: number): Promise<void> {
    for (const ref of await this.store.due(firm, now, room)) {
      if (this.stopped || this.total >= this.settings.concurrency) return;
      if (!(await this.store.claim(ref, now, now + this.settings.timeoutMs + 30_000))) continue;
      this.track(ref.firm, 1);
      const send = this.send(ref)
        .catch((error: unknown) => this.logger.warn({ err: error, endpoint: ref.endpointId }, 'webhook delivery not recorded; sent again when its lease ends'))
        .finally(() => {
          this.track(ref.firm, -1);
          this.sends.delete(send);
          this.schedule(0);
        });
      this.sends.add(send);
    }
  }

  private track(firm: string, by: number): void {
    this.total += by;
    const count = (this.inFlight.get(firm) ?? 0) + by;
    if (count === 0) this.inFlight.delete(firm);
    else this.inFlight.set(firm, count);
  }

  private async send(ref: QueueRef): Promise<void> {
    const endpoint = await this.store.endpoint(ref.endpointId);
    const head = await this.store.head(ref);
    if (!endpoint || endpoint.state === 'paused' || head === undefined) return this.store.park(ref);
    const delivery = await this.store.delivery(head);
    const attempt = (delivery?.attempts ?? 0) + 1;
    const record = (result: Omit<DeliveryAttempt, 'deliveryId' | 'eventId' | 'attempt' | 'at'>): DeliveryAttempt => ({ deliveryId: head, eventId: delivery?.eventId ?? '', attempt, at: this.now(), ...result });
    if (!delivery) return this.store.finish(ref, record({ statusCode: null, durationMs: 0, error: 'the delivery expired before it could be sent', outcome: 'failed' }), this.now());

    const secret = await this.store.secretOf(endpoint.id);
    const verdict = checkEndpointUrl(endpoint.url, this.settings.allowLoopbackHttp);
    const timestamp = String(Math.floor(this.now() / 1000));
    const result = !verdict.ok || secret === undefined
      ? { statusCode: null, error: verdict.ok ? 'the endpoint has no secret' : `the URL ${verdict.reason}`, durationMs: 0 }
      : await postOnce(verdict.url, { 'tower-webhook-id': delivery.eventId, 'tower-webhook-timestamp': timestamp, 'tower-webhook-signature': signatureOf(secret, timestamp, delivery.body) }, delivery.body, { timeoutMs: this.settings.timeoutMs, maxResponseBytes: this.settings.maxResponseBytes, allowLoopback: this.settings.allowLoopbackHttp });
    this.duration.observe(result.durationMs / 1000);
    const now = this.now();
    if (result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300) {
      this.attempts.inc({ outcome: 'delivered' });
      return this.store.finish(ref, record({ ...result, outcome: 'delivered' }), now);
    }
    const error = result.error ?? (result.statusCode === null ? 'no answer' : null);
    if (givenUp(delivery.queuedAt, now, this.settings.retry)) {
      this.attempts.inc({ outcome: 'failed' });
      this.logger.warn({ endpoint: endpoint.id, firm: endpoint.firm, delivery: delivery.id, attempts: attempt, statusCode: result.statusCode, error }, 'webhook delivery given up');
      return this.store.finish(ref, record({ ...result, error, outcome: 'failed' }), now);
    }
    this.attempts.inc({ outcome: 'retrying' });
    const failed = record({ ...result, error, outcome: 'retrying' });
    const reason = `${this.settings.pauseAfter} deliveries in a row failed; the last: ${failed.statusCode === null ? failed.error : `HTTP ${failed.statusCode}`}`;
    const notices = await this.pauseNotices(endpoint, reason, now);
    const outcome = await this.store.fail(ref, failed, now + retryDelayMs(attempt, this.settings.retry), { after: this.settings.pauseAfter, reason, notices }, now);
    if (outcome.paused) {
      this.paused.inc();
      for (const notice of notices.slice(0, outcome.refused)) this.refused(notice);
      this.logger.warn({ endpoint: endpoint.id, firm: endpoint.firm, failures: this.settings.pauseAfter, toldTo: notices.map((n) => n.endpointId), refused: outcome.refused }, 'webhook endpoint paused after failing deliveries in a row');
    }
  }

  /** The pause as told to the firm's other active endpoints that subscribe to it, should this failure pause the endpoint. */
  private async pauseNotices(endpoint: StoredEndpoint, reason: string, now: number): Promise<QueuedDelivery[]> {
    const others = (await this.store.endpointsOf(endpoint.firm)).filter((e) => e.id !== endpoint.id && e.state === 'active' && e.events.includes('endpoint.paused'));
    return others.length === 0 ? [] : deliveriesOf(pausedEventOf(endpoint, reason, now), others, `endpoint:${endpoint.id}`, now);
  }
}
