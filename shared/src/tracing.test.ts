import { describe, expect, it, vi } from 'vitest';
import { createLogger } from './logging.ts';
import { linksOf, runInSpan, traceContextOf, traceHeadersOf, Tracing, tracingEnv, type Span, type SpanContext } from './tracing.ts';
import { loadConfig } from './config.ts';

const sampled: SpanContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1, traceState: undefined };
/** Headers as KafkaJS hands them to a consumer: every value a Buffer. */
const asConsumed = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([key, value]) => [key, Buffer.from(value)]));

describe('trace context in Kafka headers', () => {
  it('goes through Kafka headers (Buffer values) and comes back the same, tracestate too', () => {
    const headers = traceHeadersOf(sampled);
    expect(headers).toEqual({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
    expect(traceContextOf(asConsumed({ 'tower-device': 'bl2-gw-1', ...headers }))).toEqual({ ...sampled, isRemote: true });

    const withState = traceContextOf({ traceparent: headers!.traceparent, tracestate: 'vendor=abc,other=1' });
    expect(withState?.traceState?.serialize()).toBe('vendor=abc,other=1');
    const again = traceHeadersOf(withState!);
    expect(again).toEqual({ traceparent: headers!.traceparent, tracestate: 'vendor=abc,other=1' });
    expect(traceContextOf(asConsumed(again!))?.traceState?.get('vendor')).toBe('abc');
  });

  it('ignores a malformed or missing traceparent: no context, no exception', () => {
    for (const traceparent of ['garbage', '', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', 'zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01x']) {
      expect(traceContextOf({ traceparent }), traceparent).toBeUndefined();
      expect(traceContextOf(asConsumed({ traceparent })), traceparent).toBeUndefined();
    }
    expect(traceContextOf({ traceparent: Buffer.from([0xff, 0xfe, 0x00]) })).toBeUndefined();
    expect(traceContextOf({ 'tower-device': 'bl2-gw-1' })).toBeUndefined();
    expect(traceContextOf(undefined)).toBeUndefined();
  });

  it('writes nothing for a context not sampled, and links only sampled records', () => {
    expect(traceHeadersOf({ ...sampled, traceFlags: 0 })).toBeUndefined();
    const notSampled = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';
    const links = linksOf([asConsumed({ traceparent: traceHeadersOf(sampled)!.traceparent }), asConsumed({ traceparent: notSampled }), { traceparent: 'garbage' }, {}, undefined]);
    expect(links.map((l) => l.context.spanId)).toEqual([sampled.spanId]);
  });
});

describe('the tracer', () => {
  it('is not started without an endpoint, and says so once', async () => {
    const logger = createLogger({ service: 'test', level: 'silent' });
    const info = vi.spyOn(logger, 'info');
    expect(await Tracing.start('ingest', loadConfig(tracingEnv, {}), logger)).toBeUndefined();
    expect(await Tracing.start('ingest', loadConfig(tracingEnv, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }), logger)).toBeUndefined();
    expect(info.mock.calls.map((call) => call[0])).toEqual([{ tracing: false }, { tracing: false }]);
  });

  it('says where it exports: the traces URL, or the base URL with /v1/traces', async () => {
    const logger = createLogger({ service: 'test', level: 'silent' });
    const info = vi.spyOn(logger, 'info');
    const base = await Tracing.start('ingest', loadConfig(tracingEnv, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/' }), logger);
    const specific = await Tracing.start('ingest', loadConfig(tracingEnv, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:9999/traces' }), logger);
    expect(info.mock.calls.map((call) => call[0])).toEqual([
      { tracing: true, endpoint: 'http://127.0.0.1:4318/v1/traces' },
      { tracing: true, endpoint: 'http://127.0.0.1:9999/traces' },
    ]);
    await Promise.all([base?.shutdown(), specific?.shutdown()]);
  });

  it('logs the endpoint without its credentials: no user:pass@, no query string', async () => {
    const logger = createLogger({ service: 'test', level: 'silent' });
    const info = vi.spyOn(logger, 'info');
    const tracing = await Tracing.start('ingest', loadConfig(tracingEnv, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tower:s3cret@127.0.0.1:4318/v1/traces?token=abc#frag' }), logger);
    expect(info.mock.calls.map((call) => call[0])).toEqual([{ tracing: true, endpoint: 'http://127.0.0.1:4318/v1/traces' }]);
    expect(JSON.stringify(info.mock.calls)).not.toMatch(/s3cret|token=abc/);
    await tracing?.shutdown();
  });

  it('makes a request span the child of a valid incoming traceparent, a root span for a malformed one', async () => {
    const tracing = (await Tracing.start('ingest', loadConfig(tracingEnv, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' }), createLogger({ service: 'test', level: 'silent' })))!;
    const child = tracing.startRequestSpan('POST', '/v1/events', { traceparent: traceHeadersOf(sampled)!.traceparent });
    expect(child.spanContext().traceId).toBe(sampled.traceId);
    const root = tracing.startRequestSpan('POST', '/v1/events', { traceparent: '00-nonsense' });
    expect(root.spanContext().traceId).not.toBe(sampled.traceId);
    expect(traceHeadersOf(root.spanContext())?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});

describe('a span around work', () => {
  const recording = () => {
    const calls: string[] = [];
    const span = { end: () => calls.push('end'), setStatus: () => calls.push('error'), recordException: () => calls.push('exception') } as unknown as Span;
    return { span, calls };
  };

  it('ends when sync or async work is done, as failed when it throws or rejects, and passes the result or error on', async () => {
    const ok = recording();
    expect(runInSpan(ok.span, () => 7)).toBe(7);
    expect(ok.calls).toEqual(['end']);

    const later = recording();
    const pending = runInSpan(later.span, async () => 'done');
    expect(later.calls).toEqual([]);
    expect(await pending).toBe('done');
    expect(later.calls).toEqual(['end']);

    const thrown = recording();
    expect(() => runInSpan(thrown.span, () => { throw new Error('boom'); })).toThrow('boom');
    expect(thrown.calls).toEqual(['exception', 'error', 'end']);

    const rejected = recording();
    await expect(runInSpan(rejected.span, async () => { throw new Error('later boom'); })).rejects.toThrow('later boom');
    expect(rejected.calls).toEqual(['exception', 'error', 'end']);
  });
});
