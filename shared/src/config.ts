/**
 * Typed configuration over environment variables. A service declares a schema once;
 * `loadConfig` validates every variable at start and fails fast with one error that
 * names each bad variable and why. Nothing here reads `process.env` itself: only a
 * service's main.ts passes it in.
 */

export interface EnvField<T> {
  readonly description: string;
  /** `raw` is undefined when the variable is unset or empty. Throws a reason. */
  parse(raw: string | undefined): T;
}

export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; reason: string }[]) {
    super(`invalid configuration:\n${issues.map((i) => `  ${i.variable}: ${i.reason}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Options<T> = { default?: T; description: string };

function field<T>(options: Options<T>, parse: (raw: string) => T, show: (v: T) => string = String): EnvField<T> {
  return {
    description: options.default === undefined ? options.description : `${options.description} (default ${show(options.default)})`,
    parse(raw) {
      if (raw === undefined) {
        if (options.default === undefined) throw new Error('is required but not set');
        return options.default;
      }
      return parse(raw);
    },
  };
}

function integerIn(raw: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(raw)) throw new Error(`must be a whole number, got '${raw}'`);
  const value = Number(raw);
  if (value < min || value > max) throw new Error(`must be between ${min} and ${max}, got ${value}`);
  return value;
}

export const env = {
  string: (o: Options<string>) => field(o, (raw) => raw),
  integer: (o: Options<number> & { min?: number; max?: number }) =>
    field(o, (raw) => integerIn(raw, o.min ?? Number.MIN_SAFE_INTEGER, o.max ?? Number.MAX_SAFE_INTEGER)),
  port: (o: Options<number>) => field(o, (raw) => integerIn(raw, 1, 65535)),
  boolean: (o: Options<boolean>) =>
    field(o, (raw) => {
      if (['true', '1', 'yes'].includes(raw.toLowerCase())) return true;
      if (['false', '0', 'no'].includes(raw.toLowerCase())) return false;
      throw new Error(`must be true or false, got '${raw}'`);
    }),
  oneOf: <const V extends string>(values: readonly V[], o: Options<V>) =>
    field(o, (raw) => {
      if (!(values as readonly string[]).includes(raw)) throw new Error(`must be one of ${values.join(', ')}, got '${raw}'`);
      return raw as V;
    }),
  url: (o: Options<string> & { protocols: readonly string[] }) =>
    field(o, (raw) => {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new Error(`must be a URL, got '${raw}'`);
      }
      if (!o.protocols.includes(url.protocol.replace(/:$/, ''))) {
        throw new Error(`must be a ${o.protocols.join(' or ')} URL, got '${raw}'`);
      }
      return raw;
    }),
  /** Comma-separated web origins (`http://host:port`, no path), as browsers send them. */
  origins: (o: Options<string[]>) =>
    field(
      o,
      (raw) => {
        const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
        for (const item of items) {
          let url: URL;
          try {
            url = new URL(item);
          } catch {
            throw new Error(`'${item}' is not an origin like http://127.0.0.1:8080`);
          }
          if (url.origin !== item) throw new Error(`'${item}' is not an origin (scheme://host[:port], no path or slash): did you mean ${url.origin}?`);
        }
        return items;
      },
      (v) => v.join(','),
    ),
  /** Comma-separated `host:port` pairs. */
  hostPorts: (o: Options<string[]>) =>
    field(
      o,
      (raw) => {
        const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
        if (items.length === 0) throw new Error('must list at least one host:port');
        for (const item of items) {
          const match = /^([^:\s]+|\[[0-9a-fA-F:]+\]):(\d+)$/.exec(item);
          if (!match) throw new Error(`'${item}' is not host:port`);
          integerIn(match[2] ?? '', 1, 65535);
        }
        return items;
      },
      (v) => v.join(','),
    ),
};

export type ConfigSchema = Record<string, EnvField<unknown>>;
export type ConfigOf<S extends ConfigSchema> = { readonly [K in keyof S]: S[K] extends EnvField<infer T> ? T : never };

export function loadConfig<S extends ConfigSchema>(schema: S, source: Readonly<Record<string, string | undefined>>): ConfigOf<S> {
  const issues: { variable: string; reason: string }[] = [];
  const config: Record<string, unknown> = {};
  for (const [variable, spec] of Object.entries(schema)) {
    const raw = source[variable];
    try {
      config[variable] = spec.parse(raw === undefined || raw.trim() === '' ? undefined : raw.trim());
    } catch (error) {
      issues.push({ variable, reason: (error as Error).message });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return config as ConfigOf<S>;
}

/** Markdown table of a schema, for READMEs and `--help`. */
export function describeConfig(schema: ConfigSchema): string {
  return ['| variable | meaning |', '| --- | --- |', ...Object.entries(schema).map(([k, v]) => `| \`${k}\` | ${v.description} |`)].join('\n');
}

// --- Fragments every service composes --------------------------------------------

export const kafkaEnv = {
  KAFKA_BROKERS: env.hostPorts({ default: ['127.0.0.1:9092'], description: 'Kafka bootstrap brokers, comma-separated host:port' }),
  KAFKA_CLIENT_ID: env.string({ default: 'tower', description: 'Kafka client id prefix' }),
  KAFKA_REPLICATION_FACTOR: env.integer({ default: 1, min: 1, max: 5, description: 'replication factor for topics the catalog creates' }),
  KAFKA_MIN_INSYNC_REPLICAS: env.integer({ default: 1, min: 1, max: 5, description: 'min.insync.replicas for topics the catalog creates' }),
  KAFKA_SASL_MECHANISM: env.oneOf(['scram-sha-512', 'scram-sha-256', 'none'], { default: 'none', description: 'how the service logs in to Kafka (npm start and the tests: scram-sha-512 with a principal per service)' }),
  KAFKA_SASL_USERNAME: env.string({ default: '', description: 'Kafka principal (SASL/SCRAM user) of the service' }),
  KAFKA_SASL_PASSWORD: env.string({ default: '', description: 'its password' }),
};

export type KafkaLogin = ({ mechanism: 'scram-sha-512' } | { mechanism: 'scram-sha-256' }) & { username: string; password: string };

/** The SASL login the Kafka variables describe; undefined for `none`. */
export function kafkaLoginOf(config: { KAFKA_SASL_MECHANISM: 'scram-sha-512' | 'scram-sha-256' | 'none'; KAFKA_SASL_USERNAME: string; KAFKA_SASL_PASSWORD: string }): KafkaLogin | undefined {
  if (config.KAFKA_SASL_MECHANISM === 'none') return undefined;
  if (config.KAFKA_SASL_USERNAME === '' || config.KAFKA_SASL_PASSWORD === '') {
    throw new ConfigError([{ variable: 'KAFKA_SASL_USERNAME', reason: `KAFKA_SASL_MECHANISM is ${config.KAFKA_SASL_MECHANISM}: KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required` }]);
  }
  return { mechanism: config.KAFKA_SASL_MECHANISM, username: config.KAFKA_SASL_USERNAME, password: config.KAFKA_SASL_PASSWORD };
}

export const clickhouseEnv = {
  CLICKHOUSE_URL: env.url({ default: 'http://127.0.0.1:8123', protocols: ['http', 'https'], description: 'ClickHouse HTTP endpoint' }),
  CLICKHOUSE_DATABASE: env.string({ default: 'tower', description: 'ClickHouse database of the control tower' }),
  CLICKHOUSE_USER: env.string({ default: 'default', description: 'ClickHouse user' }),
  CLICKHOUSE_PASSWORD: env.string({ default: '', description: 'ClickHouse password' }),
};

export const redisEnv = {
  REDIS_URL: env.url({ default: 'redis://127.0.0.1:6379', protocols: ['redis', 'rediss'], description: 'Redis endpoint' }),
  REDIS_USERNAME: env.string({ default: '', description: 'Redis ACL user of the service (empty: the default user)' }),
  REDIS_PASSWORD: env.string({ default: '', description: 'its password' }),
};

export const logEnv = {
  LOG_LEVEL: env.oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info', description: 'log level' }),
};

/** For a service's main.ts: the config, or a one-line message naming the bad variable and exit 1. */
export function loadConfigOrExit<S extends ConfigSchema>(service: string, schema: S, source: Readonly<Record<string, string | undefined>> = process.env): ConfigOf<S> {
  try {
    return loadConfig(schema, source);
  } catch (error) {
    process.stderr.write(`${service}: ${error instanceof ConfigError ? error.message : String(error)}\n`);
    process.exit(1);
  }
}

/**
 * For a service's main.ts: a value derived from the config at start (a file a variable
 * names, a rule between variables), or the reason on stderr and exit 1.
 */
export function derivedOrExit<T>(service: string, derive: () => T): T {
  try {
    return derive();
  } catch (error) {
    process.stderr.write(`${service}: invalid configuration:\n  ${(error as Error).message}\n`);
    process.exit(1);
  }
}
