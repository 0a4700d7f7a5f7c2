import type { FastifyInstance } from 'fastify';
import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { docsContentSecurityPolicy } from './http-hardening.ts';

type OpenApi = NonNullable<FastifyDynamicSwaggerOptions['openapi']>;

export interface ApiDocs {
  title: string;
  description: string;
  securitySchemes?: NonNullable<OpenApi['components']>['securitySchemes'];
}

/** What documentProblems reads of an OpenAPI document. */
interface OperationResponses {
  paths?: Record<string, Record<string, unknown> | undefined>;
}

/** The content type installProblemHandler answers every 4xx and 5xx with. */
const problemMediaType = 'application/problem+json';

/**
 * Every error answer leaves as application/problem+json (installProblemHandler), so the
 * document says so: a 4xx/5xx response declared with a JSON body is documented under
 * that content type instead of fastify-swagger's default, application/json.
 */
export function documentProblems<D extends OperationResponses>(document: D): D {
  for (const pathItem of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(pathItem ?? {})) {
      const responses = (operation as { responses?: Record<string, { content?: Record<string, unknown> }> }).responses ?? {};
      for (const [status, { content }] of Object.entries(responses)) {
        const json = content?.['application/json'];
        if (!(Number(status) >= 400) || !content || json === undefined) continue;
        delete content['application/json'];
        content[problemMediaType] = json;
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
