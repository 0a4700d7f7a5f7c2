import { describe, expect, it } from 'vitest';
import { ConfigError, clickhouseEnv, env, kafkaEnv, loadConfig } from './config.ts';

const schema = {
  PORT: env.port({ default: 8081, description: 'HTTP port' }),
  MODE: env.oneOf(['live', 'replay'] as const, { default: 'live', description: 'mode' }),
  SECRET: env.string({ description: 'required secret' }),
  VERBOSE: env.boolean({ default: false, description: 'verbose' }),
  ...kafkaEnv,
};

describe('loadConfig', () => {
  it('applies defaults and parses values into their types', () => {
    const config = loadConfig(schema, { SECRET: 's', PORT: '9000', VERBOSE: 'yes', KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9094' });
    expect(config.PORT).toBe(9000);
    expect(config.MODE).toBe('live');
    expect(config.VERBOSE).toBe(true);
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:9092', '127.0.0.1:9094']);
    expect(config.KAFKA_REPLICATION_FACTOR).toBe(1);
  });

  it('names every bad variable and the reason in one error', () => {
    let error: unknown;
    try {
      loadConfig(schema, { PORT: '70000', MODE: 'turbo', KAFKA_BROKERS: 'nohost', VERBOSE: 'maybe' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    expect(issues.map((i) => i.variable).sort()).toEqual(['KAFKA_BROKERS', 'MODE', 'PORT', 'SECRET', 'VERBOSE']);
    expect((error as ConfigError).message).toContain('PORT: must be between 1 and 65535, got 70000');
    expect((error as ConfigError).message).toContain('SECRET: is required but not set');
    expect((error as ConfigError).message).toContain("MODE: must be one of live, replay, got 'turbo'");
  });

  it('treats an empty variable as unset', () => {
    expect(() => loadConfig(schema, { SECRET: '  ' })).toThrow(/SECRET: is required/);
    expect(loadConfig(schema, { SECRET: 'x', PORT: '' }).PORT).toBe(8081);
  });

  it('rejects URLs of the wrong kind', () => {
    expect(() => loadConfig(clickhouseEnv, { CLICKHOUSE_URL: 'redis://x:1' })).toThrow(/CLICKHOUSE_URL: must be a http or https URL/);
    expect(() => loadConfig(clickhouseEnv, { CLICKHOUSE_URL: 'not a url' })).toThrow(/must be a URL/);
  });
});
