/** `npm run provision`: applies migrations and the topic catalog to the servers named by the env. */
import { ConfigError, createLogger, loadConfig } from '@tower/shared';
import { describeProvision, provision, provisionEnv } from './provision.ts';

try {
  const config = loadConfig(provisionEnv, process.env);
  const logger = createLogger({ service: 'provision', level: config.LOG_LEVEL });
  const report = await provision(config, logger);
  for (const line of describeProvision(report)) logger.info(line);
} catch (error) {
  process.stderr.write(`provision failed: ${error instanceof ConfigError ? error.message : (error as Error).stack}\n`);
  process.exit(1);
}
