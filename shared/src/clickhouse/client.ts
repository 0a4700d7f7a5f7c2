import { ClickHouseLogLevel, createClient, type ClickHouseClient, type Logger as ClientLogger } from '@clickhouse/client';
import type { Logger } from '../logging.ts';
import type { SqlFragment } from './sql.ts';

export type { ClickHouseClient };

export interface ClickHouseSettings {
  url: string;
  username: string;
  password: string;
  /** Unqualified table names in queries resolve to this database. */
  database: string;
  requestTimeoutMs?: number;
  logger: Logger;
}

/** The client's own log lines, through our pino logger instead of the console. */
function pinoBridge(logger: Logger): new () => ClientLogger {
  const log = logger.child({ component: 'clickhouse-client' });
  return class implements ClientLogger {
    trace = ({ message, args }: { message: string; args?: Record<string, unknown> }) => log.trace(args ?? {}, message);
    debug = ({ message, args }: { message: string; args?: Record<string, unknown> }) => log.debug(args ?? {}, message);
    info = ({ message, args }: { message: string; args?: Record<string, unknown> }) => log.info(args ?? {}, message);
    warn = ({ message, args, err }: { message: string; args?: Record<string, unknown>; err?: Error }) => log.warn({ ...args, err }, message);
    error = ({ message, args, err }: { message: string; args?: Record<string, unknown>; err: Error }) => log.warn({ ...args, err }, message);
  };
}

export function createClickHouse(settings: ClickHouseSettings): ClickHouseClient {
  return createClient({
    url: settings.url,
    username: settings.username,
    password: settings.password,
    database: settings.database,
    request_timeout: settings.requestTimeoutMs ?? 30_000,
    max_open_connections: 10,
    compression: { request: false, response: false },
    keep_alive: { enabled: true },
    log: { LoggerClass: pinoBridge(settings.logger), level: ClickHouseLogLevel.WARN },
  });
}

/** The rows of a query rendered by `sql` (JSONEachRow: 64-bit integers come as strings). */
export async function selectRows<T>(client: ClickHouseClient, query: SqlFragment): Promise<T[]> {
  return (await client.query({ query: query.text, format: 'JSONEachRow' })).json<T>();
}

/** Resolves when ClickHouse answers `/ping`; for readiness checks. */
export async function pingClickHouse(client: ClickHouseClient): Promise<void> {
  const result = await client.ping();
  if (!result.success) throw result.error;
}
