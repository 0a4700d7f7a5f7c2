/**
 * Tracing of one event, behind one small adapter: W3C trace context (`traceparent`,
 * `tracestate`) read from an HTTP request or a Kafka record and written to Kafka
 * headers, and an OpenTelemetry SDK that exports spans over OTLP/HTTP (JSON) only where
 * a collector is configured. With no endpoint no SDK is started and `startTracing`
 * answers undefined: the services then do nothing at all for tracing.
 *
 * The standard OpenTelemetry variables configure it; the SDK reads the ones past the
 * endpoint itself (sampler, service name and resource attributes, exporter headers and
 * timeout, batch processor sizing).
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Attributes, type Link, type Span, type SpanContext, type TextMapGetter, type TextMapSetter, type TimeInput } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { env, type ConfigOf } from './config.ts';
import type { Logger } from './logging.ts';

export { SpanKind, SpanStatusCode, type Attributes, type Link, type Span, type SpanContext };

export const tracingEnv = {
  OTEL_EXPORTER_OTLP_ENDPOINT: env.url({
    default: '',
    protocols: ['http', 'https'],
    description:
      'OpenTelemetry collector, OTLP/HTTP with JSON (spans go to <url>/v1/traces); unset, with OTEL_EXPORTER_OTLP_TRACES_ENDPOINT unset too: no tracing and no SDK. ' +
      'The SDK also reads OTEL_TRACES_SAMPLER (default parentbased_always_on), OTEL_TRACES_SAMPLER_ARG, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TIMEOUT and OTEL_BSP_*',
  }),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: env.url({ default: '', protocols: ['http', 'https'], description: 'the traces URL itself (used as it is), over OTEL_EXPORTER_OTLP_ENDPOINT' }),
  OTEL_SDK_DISABLED: env.boolean({ default: false, description: 'true: no tracing even with an endpoint' }),
};
export type TracingConfig = ConfigOf<typeof tracingEnv>;

/** Kafka record headers as KafkaJS reads them (Buffers) or a producer writes them; HTTP request headers have the same shape. */
export type TraceCarrier = Readonly<Record<string, Buffer | string | readonly (Buffer | string)[] | undefined>>;

/** The W3C trace context of a span, as Kafka headers. */
export type TraceHeaders = {
  traceparent: string;
  tracestate?: string;
};

const propagator = new W3CTraceContextPropagator();
const getter: TextMapGetter<TraceCarrier> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    const value = carrier[key];
    if (value === undefined) return undefined;
    if (typeof value === 'string' || Buffer.isBuffer(value)) return value.toString();
    return (value as readonly (Buffer | string)[]).map(String);
  },
};
const setter: TextMapSetter<Partial<TraceHeaders>> = {
  set(carrier, key, value) {
    if (key === 'traceparent' || key === 'tracestate') carrier[key] = value;
  },
};

/**
 * The span context a request or record carries, or undefined when it carries none or
 * one that is not a valid W3C `traceparent`: tracing never refuses data.
 */
export function traceContextOf(carrier: TraceCarrier | undefined): SpanContext | undefined {
  if (carrier?.['traceparent'] === undefined) return undefined;
  return trace.getSpanContext(propagator.extract(ROOT_CONTEXT, carrier, getter));
}

/** Whether a span context was sampled: only those are worth following downstream. */
export const isSampled = (context: SpanContext): boolean => (context.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;

/** The headers that carry a sampled span's context to the next hop; undefined for one not sampled (nothing to follow). */
export function traceHeadersOf(context: SpanContext): TraceHeaders | undefined {
  if (!isSampled(context)) return undefined;
  const headers: Partial<TraceHeaders> = {};
  propagator.inject(trace.setSpanContext(ROOT_CONTEXT, context), headers, setter);
  return headers.traceparent === undefined ? undefined : (headers as TraceHeaders);
}

/** A link to each sampled context of the carriers (one batch of many traced records). */
export function linksOf(carriers: Iterable<TraceCarrier | undefined>): Link[] {
  const links: Link[] = [];
  for (const carrier of carriers) {
    const context = traceContextOf(carrier);
    if (context && isSampled(context)) links.push({ context });
  }
  return links;
}

export interface SpanOptions {
  kind: SpanKind;
  attributes?: Attributes;
  /** The remote parent (an incoming `traceparent`); none: a root span. */
  parent?: SpanContext;
  links?: Link[];
  startTime?: TimeInput;
}

/** `url` (validated as one by the config) fit for a log: no user:password@, no query string or fragment (either may carry a token). */
function withoutSecrets(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

/** The tracer of one service, exporting to the configured collector. */
export class Tracing {
  private constructor(
    private readonly provider: BasicTracerProvider,
    private readonly service: string,
  ) {}

  /** Starts the SDK when an endpoint is configured; undefined when not (the SDK and exporter are then not even loaded). */
  static async start(service: string, config: TracingConfig, logger: Logger): Promise<Tracing | undefined> {
    const endpoint = config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || (config.OTEL_EXPORTER_OTLP_ENDPOINT && `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, '')}/v1/traces`);
    if (!endpoint || config.OTEL_SDK_DISABLED) {
      logger.info({ tracing: false }, 'tracing off: no OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (or OTEL_SDK_DISABLED)');
      return undefined;
    }
    const [{ OTLPTraceExporter }, { defaultResource, detectResources, envDetector, resourceFromAttributes }, { BasicTracerProvider, BatchSpanProcessor }] = await Promise.all([
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/sdk-trace-base'),
    ]);
    // The exporter and the provider read the rest of the standard variables themselves.
    const resource = defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: `tower-${service}` })).merge(detectResources({ detectors: [envDetector] }));
    const provider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
    logger.info({ tracing: true, endpoint: withoutSecrets(endpoint) }, 'tracing exports spans over OTLP/HTTP');
    return new Tracing(provider, service);
  }

  startSpan(name: string, options: SpanOptions): Span {
    const { parent, ...rest } = options;
    return this.provider.getTracer(`tower-${this.service}`).startSpan(name, rest, parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT);
  }

  /** A server span for one HTTP request, the child of the `traceparent` it carries (a malformed one is ignored: a root span). */
  startRequestSpan(method: string, route: string, headers: TraceCarrier): Span {
    return this.startSpan(`${method} ${route}`, { kind: SpanKind.SERVER, parent: traceContextOf(headers), attributes: { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_HTTP_ROUTE]: route } });
  }

  /** Exports what is buffered and stops; for the last shutdown step, after the producers flushed. */
  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

/** Ends a request's span with the status answered (a 5xx is an error, as OpenTelemetry's HTTP conventions say for servers). */
export function endRequestSpan(span: Span, statusCode: number): void {
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, statusCode);
  if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/** Ends a span as failed with the error, or as done. */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}

/** Runs `work` (sync or async) and ends the span when it is done, as failed if it throws. */
export function runInSpan<T>(span: Span, work: () => T): T {
  let result: T;
  try {
    result = work();
  } catch (error) {
    endSpan(span, error);
    throw error;
  }
  if (!(result instanceof Promise)) {
    endSpan(span);
    return result;
  }
  return result.then(
    (value: unknown) => {
      endSpan(span);
      return value;
    },
    (error: unknown) => {
      endSpan(span, error);
      throw error;
    },
  ) as T;
}
