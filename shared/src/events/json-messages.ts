import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/** A JSON message on a live topic (ticks, journey updates, alerts) that is not what its schema says. */
export class MessageDecodeError extends Error {}

/**
 * A decoder for the JSON messages of one live topic, checked against the schema that
 * also types them: `what` names the message in errors ("not a throughput tick: /site …").
 */
export function jsonMessageDecoder<T extends TSchema>(schema: T, what: string): (value: Buffer | string) => Static<T> {
  const check = TypeCompiler.Compile(schema);
  return (value) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value.toString());
    } catch (error) {
      throw new MessageDecodeError(`not JSON: ${(error as Error).message}`);
    }
    if (!check.Check(parsed)) {
      const first = check.Errors(parsed).First();
      throw new MessageDecodeError(`not ${what}: ${first?.path || '/'} ${first?.message ?? ''}`.trimEnd());
    }
    return parsed;
  };
}
