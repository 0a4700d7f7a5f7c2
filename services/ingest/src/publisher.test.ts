import { describe, expect, it } from 'vitest';
import { EventCodec, eventTypeSchemas, familyTopics, type TopicMessages, type TowerProducer } from '@tower/shared';
import { sampleEvents } from '@tower/shared/testing';
import { EventPublisher } from './publisher.ts';

/** A producer that only keeps what it was given (a pure unit test: no Kafka). */
function recordingProducer(): TowerProducer & { sent: TopicMessages[] } {
  const sent: TopicMessages[] = [];
  return { sent, connect: async () => undefined, disconnect: async () => undefined, send: async (batch) => void sent.push(...batch) };
}

const accepted = () => sampleEvents().map((event) => ({ event, family: eventTypeSchemas.get(event.type)!.family }));

describe('event publisher headers', () => {
  it('writes only the device header for an untraced request, and the request span context on every record of a traced one', async () => {
    const producer = recordingProducer();
    const publisher = new EventPublisher(producer, new EventCodec(), 1000, familyTopics);
    await publisher.publish(accepted(), 'bl2-gw-1', Date.now());
    const untraced = producer.sent.flatMap((batch) => batch.messages.map((m) => m.headers));
    expect(untraced.length).toBe(sampleEvents().length);
    for (const headers of untraced) expect(headers).toEqual({ 'tower-device': 'bl2-gw-1' });

    producer.sent.length = 0;
    const trace = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'vendor=abc' };
    await publisher.publish(accepted(), 'bl2-gw-1', Date.now(), trace);
    const traced = producer.sent.flatMap((batch) => batch.messages.map((m) => m.headers));
    expect(traced.length).toBe(sampleEvents().length);
    for (const headers of traced) expect(headers).toEqual({ 'tower-device': 'bl2-gw-1', ...trace });
  });

  it('gives the producer its timeout as an abort signal, so a batch still queued behind a stalled send is withdrawn when the caller gets its 503', async () => {
    let received: AbortSignal | undefined;
    const stalled: TowerProducer = {
      connect: async () => undefined,
      disconnect: async () => undefined,
      send: (_batch, signal) => new Promise((_, reject) => {
        received = signal;
        signal?.addEventListener('abort', () => reject(signal.reason));
      }),
    };
    const publisher = new EventPublisher(stalled, new EventCodec(), 50, familyTopics);
    await expect(publisher.publish(accepted(), 'bl2-gw-1', Date.now())).rejects.toMatchObject({ status: 503, detail: expect.stringMatching(/no acknowledgement within 50 ms/) });
    expect(received?.aborted).toBe(true);
  });
});
