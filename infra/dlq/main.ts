/**
 * `npm run dlq -- list [--topic T] [--reason R] [--since 2h|ISO] [--limit N] [--profile dev|test]`
 * prints the dead letters ClickHouse holds (id: `<dead-letter topic>:<partition>:<offset>`, time, reason,
 * source topic/partition/offset, detail);
 * `npm run dlq -- replay <id> | --reason R [--topic T] [--since …] [--dry-run]` sends them to their
 * source topic again, after the fix. Logs in as the profile's administrator
 * (`.local/<profile>/credentials/infra.json`); the profile's servers must be running.
 */
import { parseArgs } from 'node:util';
import { clickHouseErrorCode, createClickHouse, createKafka, createLogger, createProducer, kafkaLoginOf } from '@tower/shared';
import { adminEnv, ensureInfraCredentials } from '../local/infra-credentials.ts';
import { endpointsOf, resolveProfile } from '../local/profiles.ts';
import { listDeadLetters, parseDeadLetterId, parseLimit, parseSince, replayDeadLetters, type DeadLetterFilter, type StoredDeadLetter } from './dlq.ts';

const print = (line: string) => process.stdout.write(`${line}\n`);
const usage = 'usage: npm run dlq -- list [--topic T] [--reason R] [--since 2h|ISO] [--limit N] [--profile dev|test] [--database tower]\n       npm run dlq -- replay <id> | --reason R [--topic T] [--since …] [--limit N] [--dry-run] [--profile dev|test] [--database tower]';
const fail = (message: string): never => {
  process.stderr.write(`dlq: ${message}\n${usage}\n`);
  process.exit(2);
};

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    profile: { type: 'string', default: 'dev' },
    topic: { type: 'string' },
    reason: { type: 'string' },
    since: { type: 'string' },
    limit: { type: 'string' },
    database: { type: 'string', default: 'tower' },
    'dry-run': { type: 'boolean', default: false },
  },
});
const [command, id] = positionals;
if (command !== 'list' && command !== 'replay') fail(`list or replay, not '${command ?? ''}'`);
if (values.profile !== 'dev' && values.profile !== 'test') fail(`--profile must be dev or test, not '${values.profile}'`);
const option = <T>(parse: () => T): T => {
  try {
    return parse();
  } catch (error) {
    return fail((error as Error).message);
  }
};
if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(values.database)) fail(`--database takes a ClickHouse database name, not '${values.database}'`);
// A malformed id (the form before migration 0008 was <partition>:<offset>) is a usage error, not a stack trace from the query.
if (id !== undefined) option(() => parseDeadLetterId(id));
const filter: DeadLetterFilter = {
  ...(id !== undefined ? { id } : {}),
  ...(values.topic !== undefined ? { topic: values.topic } : {}),
  ...(values.reason !== undefined ? { reason: values.reason } : {}),
  ...(values.since !== undefined ? { since: option(() => parseSince(values.since!)) } : {}),
  ...(values.limit !== undefined ? { limit: option(() => parseLimit(values.limit!)) } : {}),
};
if (command === 'replay' && filter.id === undefined && filter.reason === undefined) fail('replay takes an id or --reason (nothing is replayed wholesale by accident)');

const profile = resolveProfile(values.profile === 'test' ? 'test' : 'dev');
const endpoints = endpointsOf(profile);
const admin = adminEnv(ensureInfraCredentials(profile.root));
const logger = createLogger({ service: 'dlq', level: 'error' });
const clickhouse = createClickHouse({ url: endpoints.CLICKHOUSE_URL, username: admin.CLICKHOUSE_USER, password: admin.CLICKHOUSE_PASSWORD, database: values.database, logger });
const describe = (letter: StoredDeadLetter) => `${letter.id.padEnd(28)} ${letter.at}  ${letter.reason} (${letter.kind})  ${letter.sourceTopic}[${letter.sourcePartition}]@${letter.sourceOffset}  key=${letter.key}  by ${letter.consumer}\n${' '.repeat(29)}${letter.detail.slice(0, 300)}`;

try {
  if (command === 'list') {
    const letters = await listDeadLetters(clickhouse, filter);
    for (const letter of letters) print(describe(letter));
    print(`${letters.length} dead letter(s)`);
  } else {
    const kafka = createKafka({ brokers: endpoints.KAFKA_BROKERS.split(','), clientId: 'tower-dlq', logger, login: kafkaLoginOf(admin) });
    const producer = createProducer(kafka);
    await producer.connect();
    try {
      const letters = await replayDeadLetters(clickhouse, producer, filter, { dryRun: values['dry-run'] });
      for (const letter of letters) print(describe(letter));
      print(`${letters.length} dead letter(s) ${values['dry-run'] ? 'would be replayed (dry run)' : 'replayed to their source topics'}`);
    } finally {
      await producer.disconnect();
    }
  }
} catch (error) {
  // UNKNOWN_IDENTIFIER (18.16), NO_SUCH_COLUMN_IN_TABLE: a stack started before migration 0007 or 0008.
  if (!['47', '16'].includes(clickHouseErrorCode(error) ?? '')) throw error;
  fail(`dead_letters lacks the columns of migrations 0007_dead_letters_replay and 0008_dead_letters_topic (${(error as Error).message.split('\n')[0]}): start the stack again with npm start, which applies the migrations`);
} finally {
  await clickhouse.close();
}
