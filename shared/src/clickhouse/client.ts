import { ClickHouseLogLevel, createClient, type ClickHouseClient, type Logger as ClientLogger } from '@clickhouse/client';
import type { Logger } from '../logging.ts';
import { clickHouseErrorCode } from '../errors.ts';
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

/**
 * Resolves when ClickHouse answers a query as the client's user; for readiness checks
 * and the check at start (`/ping` needs no login, so it would not notice a refused one).
 */
export async function pingClickHouse(client: ClickHouseClient): Promise<void> {
  await client.command({ query: 'SELECT 1' });
}

/** ClickHouse's codes for a refused login: UNKNOWN_USER, WRONG_PASSWORD, REQUIRED_PASSWORD (18.16), AUTHENTICATION_FAILED (current). */
const loginRefusedCodes = new Set(['192', '193', '194', '516']);

/**
 * At start: fails when ClickHouse refuses the client's login; a ClickHouse that does
 * not answer is left to readiness and retries (services start while it is down).
 */
export async function checkClickHouseLogin(client: ClickHouseClient): Promise<void> {
  try {
    await pingClickHouse(client);
  } catch (error) {
    const code = clickHouseErrorCode(error);
    if (code !== undefined && loginRefusedCodes.has(code)) throw error;
  }
}
