import type { FastifyInstance } from 'fastify';
import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { ProblemDocument } from './errors.ts';
import { docsContentSecurityPolicy } from './http-hardening.ts';

type OpenApi = NonNullable<FastifyDynamicSwaggerOptions['openapi']>;

export interface ApiDocs {
  title: string;
  description: string;
  securitySchemes?: NonNullable<OpenApi['components']>['securitySchemes'];
}

/** What documentProblems reads and writes of an OpenAPI document. */
interface OperationResponses {
  paths?: Record<string, Record<string, unknown> | undefined>;
}

interface Operation {
  parameters?: { in?: string }[];
  responses?: Record<string, { description?: string; content?: Record<string, unknown> }>;
}

/** The content type installProblemHandler answers every 4xx and 5xx with. */
const problemMediaType = 'application/problem+json';

/**
 * What the document says of error answers, as installProblemHandler sends them: every
 * 4xx/5xx declared with a JSON body is under application/problem+json (instead of
 * fastify-swagger's default, application/json); and an operation with path parameters
 * may answer 414, fastify's router refusing a parameter over its maxParamLength
 * before any schema is looked at.
 */
export function documentProblems<D extends OperationResponses>(document: D): D {
  for (const pathItem of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(pathItem ?? {}) as Operation[]) {
      const responses = operation.responses ?? {};
      for (const [status, { content }] of Object.entries(responses)) {
        const json = content?.['application/json'];
        if (!(Number(status) >= 400) || !content || json === undefined) continue;
        delete content['application/json'];
        content[problemMediaType] = json;
      }
      if (operation.parameters?.some((p) => p.in === 'path') && !responses['414']) {
        const content = { [problemMediaType]: { schema: ProblemDocument } };
        responses['414'] = { description: 'a path parameter is longer than the router takes', content };
      }
    }
  }
  return document;
}

/** The service's OpenAPI 3 document at /docs/json, with Swagger UI at /docs (under its own Content-Security-Policy). */
export async function registerApiDocs(app: FastifyInstance, docs: ApiDocs): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: { title: docs.title, version: '1', description: docs.description },
      ...(docs.securitySchemes ? { components: { securitySchemes: docs.securitySchemes } } : {}),
    },
    transformObject: (document) => ('openapiObject' in document ? documentProblems(document.openapiObject) : document.swaggerObject),
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: docsContentSecurityPolicy });
}
