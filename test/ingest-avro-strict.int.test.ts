/**
 * What the ingest API writes is Avro that an independent, strict reader decodes
 * (issue 13, defect 8): fastavro reads every message of the three event topics, and an
 * event with a string that is not well-formed Unicode is refused naming the field, so
 * it never reaches the topic (avsc would write a lone surrogate as ED A0 80, which is
 * not UTF-8; one such record breaks every strict consumer).
 */
import { randomUUID } from 'node:crypto';
import avro from 'avsc';
import type { FastifyInstance } from 'fastify';
import { describe, expect } from 'vitest';
import { createProducer, deriveFamilySchema, eventFamilies, fingerprintOf, type TowerEvent } from '@tower/shared';
import { readTopics, sampleEvents, test } from '@tower/shared/testing';
import { readWithFastavro } from '../shared/src/testing/strict-avro.ts';
import { deviceKeysBySite, startIngest } from './support/ingest.ts';

const post = (app: FastifyInstance, site: string, events: unknown[]) =>
  app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${deviceKeysBySite.get(site)}`, 'content-type': 'application/json' }, payload: JSON.stringify(events) });

describe('ingest writes Avro a strict reader decodes', () => {
  test('fastavro reads every message as sent; lone surrogates are refused at the door, naming the field', { timeout: 60_000 }, async ({ kafka, logger, createTopic }) => {
    const topics = { truck: await createTopic(), container: await createTopic(), lane: await createTopic() };
    const producer = createProducer(kafka);
    await producer.connect();
    const ingest = await startIngest({ producer, logger, topics });
    try {
      const bl2 = sampleEvents().filter((e) => e.site === 'bac-luan-2');
      const vn = sampleEvents().filter((e) => e.site === 'van-ninh');
      const bl1 = sampleEvents().filter((e) => e.site === 'bac-luan-1'); // a person through a biometric gate (lane v2)
      const fault = bl2.find((e) => e.type === 'lane.fault')!;
      const illFormed = [
        { ...bl2.find((e) => e.type === 'truck.arrived')!, eventId: randomUUID(), source: 'SEC\uD800' },
        { ...fault, eventId: randomUUID(), detail: 'belt \uDC00 jammed', faultCode: 'E\uD83D' },
      ];
      const response = await post(ingest, 'bac-luan-2', [...bl2, ...illFormed]);
      expect(response.statusCode).toBe(207);
      expect(response.json().rejected).toEqual([
        { index: bl2.length, eventId: illFormed[0]!.eventId, errors: [{ field: '/source', reason: 'is not well-formed Unicode: a lone surrogate U+D800 at position 3' }] },
        {
          index: bl2.length + 1,
          eventId: illFormed[1]!.eventId,
          errors: [
            { field: '/faultCode', reason: 'is not well-formed Unicode: a lone surrogate U+D83D at position 1' },
            { field: '/detail', reason: 'is not well-formed Unicode: a lone surrogate U+DC00 at position 5' },
          ],
        },
      ]);
      expect((await post(ingest, 'van-ninh', vn)).statusCode).toBe(200);
      expect((await post(ingest, 'bac-luan-1', bl1)).statusCode).toBe(200);

      const sent = [...bl2, ...vn, ...bl1];
      const messages = await readTopics(kafka, Object.values(topics), sent.length);
      const readings = readWithFastavro(messages.map((m) => m.message.value as Buffer));
      expect(readings.filter((r) => !r.ok)).toEqual([]);
      const records = readings.map((r) => (r.ok ? Object.fromEntries(Object.entries(r.record).filter(([, value]) => value !== null)) : {}));
      expect(records.sort(byId)).toEqual(sent.map((e) => ({ ...e })).sort(byId));
    } finally {
      await ingest.close();
      await producer.disconnect();
    }
  });

  test('the reader is strict: the bytes avsc writes for a lone surrogate do not decode', () => {
    const family = eventFamilies.find((f) => f.name === 'lane')!;
    const type = avro.Type.forSchema(deriveFamilySchema(family) as avro.Schema);
    const fault = { ...sampleEvents().find((e) => e.type === 'lane.fault')!, detail: null, source: 'SEC\uD800' };
    const body = type.toBuffer(fault);
    expect(body.includes(Buffer.from([0x53, 0x45, 0x43, 0xed, 0xa0, 0x80]))).toBe(true);
    const [reading] = readWithFastavro([Buffer.concat([Buffer.from([0xc3, 0x01]), fingerprintOf(type), body])]);
    expect(reading).toMatchObject({ ok: false, error: expect.stringMatching(/UnicodeDecodeError/) });
  });
});

const byId = (a: Partial<TowerEvent>, b: Partial<TowerEvent>) => String(a.eventId).localeCompare(String(b.eventId));
