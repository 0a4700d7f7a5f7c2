import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { sampleEvents } from '../testing/events.ts';
import { DecodeError, EventCodec, IllFormedStringError, crc64Avro, deriveFamilySchema, fingerprintOf, loadSnapshots } from './avro.ts';
import { eventFamilies, eventTypeSchemas } from './model.ts';

const codec = new EventCodec();

describe('CRC-64-AVRO', () => {
  it('matches the Avro reference fingerprints', () => {
    // Java's SchemaNormalization.parsingFingerprint64 of "null" is 7195948357588979594.
    expect(crc64Avro(Buffer.from('"null"'))).toBe(7195948357588979594n);
    // Avro's Python, Rust and Go tests list fingerprints as little-endian wire bytes.
    const wire = (schema: string) => fingerprintOf(avro.Type.forSchema(schema as avro.Schema)).toString('hex');
    expect(wire('int')).toBe('8f5c393f1ad57572');
    expect(wire('long')).toBe('b71df49344e154d0');
    expect(wire('double')).toBe('7e95ab32c035758e');
  });
});

describe('event codec', () => {
  it('round-trips every event type through single-object encoding', () => {
    for (const event of sampleEvents()) {
      const family = eventTypeSchemas.get(event.type)!.family.name;
      const bytes = codec.encode(family, event);
      expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0xc3, 0x01]));
      const decoded = codec.decode(bytes, family);
      expect(decoded.event).toEqual(event);
      expect(decoded.version).toBe(codec.versionOf(family));
    }
  });

  it('says why a message does not decode', () => {
    const lane = sampleEvents().find((e) => e.type === 'lane.opened')!;
    const bytes = codec.encode('lane', lane);
    const reason = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as DecodeError).reason;
      }
      return 'decoded';
    };
    expect(reason(() => codec.decode(Buffer.from('{"json":true}')))).toBe('not-single-object');
    expect(reason(() => codec.decode(Buffer.concat([bytes.subarray(0, 2), Buffer.alloc(8, 7), bytes.subarray(10)])))).toBe('unknown-fingerprint');
    expect(reason(() => codec.decode(bytes, 'truck'))).toBe('wrong-family');
    expect(reason(() => codec.decode(Buffer.concat([bytes.subarray(0, 10), Buffer.from([0xff, 0xff, 0xff])])))).toBe('corrupt-body');
  });

  it('refuses to write a string that is not well-formed UTF-16, naming the field (Avro strings are UTF-8)', () => {
    const fault = { ...sampleEvents().find((e) => e.type === 'lane.fault')!, source: 'SEC\uD800' };
    expect(() => codec.encode('lane', fault)).toThrow(IllFormedStringError);
    expect(() => codec.encode('lane', fault)).toThrow('lane event has a string that is not well-formed Unicode at /source');
    const truck = { ...sampleEvents().find((e) => e.type === 'truck.weighed')!, containers: ['\uDFFF'] };
    expect(() => codec.encode('truck', truck)).toThrow(/at \/containers\/0/);
  });
});

describe('schema versions', () => {
  const snapshots = loadSnapshots();

  it('the current model of every family is its newest committed snapshot (run npm run schemas:snapshot)', () => {
    for (const family of eventFamilies) {
      const current = fingerprintOf(avro.Type.forSchema(deriveFamilySchema(family) as avro.Schema));
      const newest = snapshots.filter((s) => s.family === family.name).at(-1);
      expect(newest?.fingerprint.equals(current), family.name).toBe(true);
    }
  });

  it('each snapshot only adds fields with defaults to the one before', () => {
    for (const family of eventFamilies) {
      const versions = snapshots.filter((s) => s.family === family.name);
      for (let i = 1; i < versions.length; i += 1) {
        const before = (versions[i - 1]!.type.schema() as { fields: { name: string }[] }).fields;
        const after = (versions[i]!.type as avro.types.RecordType).fields;
        for (const field of before) expect(after.some((f) => f.name === field.name), `${family.name} v${i + 1} keeps ${field.name}`).toBe(true);
        for (const field of after.filter((f) => !before.some((b) => b.name === f.name))) {
          expect(field.defaultValue(), `${family.name} v${i + 1}.${field.name} has a default`).not.toBeUndefined();
        }
      }
    }
  });

  it('a gate-in written with truck v1 (before the declared weight) still decodes; one with it round-trips', () => {
    const v1 = snapshots.find((s) => s.family === 'truck' && s.version === 1)!;
    const gateIn = sampleEvents().find((e) => e.type === 'truck.gate-in')!;
    const written = Buffer.concat([Buffer.from([0xc3, 0x01]), v1.fingerprint, v1.type.toBuffer(gateIn)]);
    const decoded = codec.decode(written, 'truck');
    expect(decoded.version).toBe(1);
    expect(decoded.event).toEqual(gateIn);
    expect(decoded.event).not.toHaveProperty('declaredGrossKg');
    const declared = { ...gateIn, declaredGrossKg: 24_500 };
    expect(codec.decode(codec.encode('truck', declared), 'truck').event).toEqual(declared);
  });

  it('an old reader reads a new writer and a new reader reads an old writer', () => {
    // A v2 of the truck record as the evolution rules allow: one field added, with a default.
    const v1Schema = deriveFamilySchema(eventFamilies[0]!);
    const v2Schema = { ...v1Schema, fields: [...v1Schema.fields, { name: 'sealNumber', type: ['null', 'string'], default: null }] };
    const v1 = avro.Type.forSchema(v1Schema as avro.Schema);
    const v2 = avro.Type.forSchema(v2Schema as avro.Schema);
    const event = sampleEvents().find((e) => e.type === 'truck.weighed')!;

    const newBytes = v2.toBuffer({ ...event, sealNumber: 'VN-SEAL-0042' });
    const oldReads = v1.fromBuffer(newBytes, v1.createResolver(v2)) as Record<string, unknown>;
    expect(oldReads['grossKg']).toBe(31_500);
    expect(oldReads).not.toHaveProperty('sealNumber');

    const oldBytes = v1.toBuffer(event);
    const newReads = v2.fromBuffer(oldBytes, v2.createResolver(v1)) as Record<string, unknown>;
    expect(newReads['sealNumber']).toBeNull();
    expect(newReads['plate']).toBe('14C-123.45');

    // And the codec itself decodes a message written with a snapshot it knows.
    const withV2 = new EventCodec([...snapshots, { family: 'truck', version: 2, type: v2, fingerprint: fingerprintOf(v2) }]);
    const message = Buffer.concat([Buffer.from([0xc3, 0x01]), fingerprintOf(v2), newBytes]);
    expect(withV2.decode(message).event).toMatchObject({ type: 'truck.weighed', grossKg: 31_500 });
  });
});
