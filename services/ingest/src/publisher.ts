import type { TraceHeaders } from '@tower/shared/tracing';
import { DependencyUnavailableProblem, type EventCodec, type EventFamily, type FamilyName, type TopicMessages, type TowerEvent, type TowerProducer } from '@tower/shared';

/**
 * Writes accepted events to their family's topic, keyed for ordering (plate,
 * container number, site/lane), in one acks=all request. Resolves only when Kafka
 * has acknowledged every message; any failure or a timeout is a 503, never a 2xx.
 *
 * At the timeout the batch is withdrawn from the producer's queue if it is still waiting
 * there (then it is never written). One already in a produce request may still land;
 * its eventIds stay bound to this content (the ledger), so the device's re-send of the
 * same events is accepted and its duplicate eventIds are dropped by the aggregator, and
 * other content under those ids is refused (see docs/ARCHITECTURE.md).
 */
export class EventPublisher {
  constructor(
    private readonly producer: TowerProducer,
    private readonly codec: EventCodec,
    private readonly sendTimeoutMs: number,
    /** Topic per family: the catalog's names in production, random ones in tests. */
    private readonly topics: Readonly<Record<FamilyName, string>>,
  ) {}

  /** `trace`: the request's span context, written to every record (a traced request only). */
  async publish(accepted: readonly { event: TowerEvent; family: EventFamily }[], device: string, receivedAt: number, trace?: TraceHeaders): Promise<void> {
    const byTopic = new Map<string, TopicMessages>();
    const ingestedAt = String(receivedAt);
    // One headers object for the request's records (the producer only reads it).
    const headers = trace ? { 'tower-device': device, ...trace } : { 'tower-device': device };
    for (const { event, family } of accepted) {
      const topic = this.topics[family.name];
      let batch = byTopic.get(topic);
      if (!batch) byTopic.set(topic, (batch = { topic, messages: [] }));
      batch.messages.push({
        key: family.keyOf(event),
        value: this.codec.encode(family.name, event),
        // The message timestamp is when the API received the event: consumers measure
        // end-to-end latency from it. The event type is in the Avro body.
        timestamp: ingestedAt,
        headers,
      });
    }
    const deadline = AbortSignal.timeout(this.sendTimeoutMs);
    try {
      await this.producer.send([...byTopic.values()], deadline);
    } catch (error) {
      const reason = deadline.aborted ? `no acknowledgement within ${this.sendTimeoutMs} ms` : (error as Error).message;
      throw new DependencyUnavailableProblem('kafka', `Kafka did not acknowledge the events (${reason}); nothing was accepted, send the batch again`, 5);
    }
  }
}
