import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * The one logger factory: structured JSON (what fastify uses too), the service name on
 * every line, and secrets redacted wherever they appear in request logs.
 */
export function createLogger(options: { service: string; level: LevelWithSilent }): Logger {
  return pino({
    name: options.service,
    level: options.level,
    base: { service: options.service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', 'req.headers["sec-websocket-protocol"]', '*.password', '*.apiKey'], censor: '[redacted]' },
  });
}
