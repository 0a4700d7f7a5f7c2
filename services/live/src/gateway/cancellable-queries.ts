import { randomUUID } from 'node:crypto';
import { sql, type ClickHouseClient, type Logger } from '@tower/shared';

/**
 * ClickHouse reads that stop when nobody wants their answer any more. Closing the HTTP
 * request is not enough: ClickHouse 18.16 runs a SELECT to its end after its client has
 * gone (measured: a query whose curl was cut after 1 s was still in system.processes
 * 7 s later, also with progress headers on; the setting that cancels it,
 * `cancel_http_readonly_queries_on_client_close`, came in later releases and 18.16
 * refuses unknown settings). So each query of a bound read carries its own `query_id`,
 * and when the read's signal aborts its request is closed (`abort_signal`) and its
 * queries are killed by id: one `KILL QUERY … ASYNC` per event-loop turn for every
 * read abandoned in it. Killing a query that already ended finds nothing, harmlessly.
 */
export class QueryCanceller {
  private doomed: string[] = [];

  constructor(
    private readonly client: ClickHouseClient,
    private readonly logger: Logger,
    private readonly idPrefix = 'live-snapshot',
  ) {}

  /**
   * The client with every `query` bound to `signal`: sent with an id of its own and
   * the signal; once the signal aborts, running ones are killed and new ones refused.
   */
  bind(signal: AbortSignal): ClickHouseClient {
    const ids: string[] = [];
    signal.addEventListener('abort', () => this.kill(ids), { once: true });
    const query = ((params: Parameters<ClickHouseClient['query']>[0]) => {
      if (signal.aborted) return Promise.reject(signal.reason);
      const queryId = `${this.idPrefix}-${randomUUID()}`;
      ids.push(queryId);
      return this.client.query({ ...params, query_id: queryId, abort_signal: signal });
    }) as ClickHouseClient['query'];
    // Everything but `query` is the client's own, called on the client itself.
    return new Proxy(this.client, {
      get: (target, property) => {
        if (property === 'query') return query;
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  private kill(ids: readonly string[]): void {
    if (ids.length === 0) return;
    const first = this.doomed.length === 0;
    this.doomed.push(...ids);
    if (!first) return;
    setImmediate(() => {
      const batch = this.doomed;
      this.doomed = [];
      this.client.command({ query: sql`KILL QUERY WHERE query_id IN ${batch} ASYNC`.text }).catch((error: unknown) => {
        this.logger.warn({ err: error, queries: batch.length }, 'abandoned snapshot queries could not be killed; they run to their end');
      });
    });
  }
}
