import type { FastifyRequest } from 'fastify';
import { ForbiddenProblem, ProblemDocument, type AccessRegistry } from '@tower/shared';

/**
 * Who may read the operators' HTTP API (history, KPIs, journeys by plate, alerts): the
 * same display and operator tokens the live gateway takes; firms' keys are for the
 * slots API and their own bookings only.
 */
export const accessTokenScheme = {
  accessToken: { type: 'http', scheme: 'bearer', description: 'a display or operator token, <id>.<secret>, as in .local/credentials.json (`access`)' },
} as const;

/** The OpenAPI `security` of a route that needs a display or operator token. */
export const readerSecurity = [{ accessToken: [] }];
export const readerProblems = { 401: ProblemDocument, 403: ProblemDocument };

/** An onRequest hook: 401 without a valid token, 403 for a firm's key; runs before validation, so nothing is told to strangers. */
export function readersOnly(access: AccessRegistry) {
  return async (request: FastifyRequest): Promise<void> => {
    const who = access.authenticate(request.headers.authorization, 'a display or operator token');
    if (who.role !== 'display' && who.role !== 'operator') throw new ForbiddenProblem(`${who.id} is a ${who.role} key; this API is for display and operator tokens`);
  };
}
