import Fastify from 'fastify';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { ProblemDocument, ValidationProblem } from './errors.ts';
import { installProblemHandler } from './http.ts';
import { registerApiDocs } from './openapi.ts';

describe('registerApiDocs', () => {
  it('documents error answers as application/problem+json, the content type they are sent with, and the rest as JSON', async () => {
    const app = Fastify();
    installProblemHandler(app);
    await registerApiDocs(app, { title: 'test', description: 'test API', securitySchemes: { key: { type: 'http', scheme: 'bearer' } } });
    app.get('/v1/things', { schema: { response: { 200: Type.Object({ n: Type.Integer() }), 400: ProblemDocument, 503: ProblemDocument } } }, async () => {
      throw new ValidationProblem([{ field: '/querystring/n', reason: 'is invalid' }]);
    });
    await app.ready();
    const responses = (await app.inject({ method: 'GET', url: '/docs/json' })).json().paths['/v1/things'].get.responses;
    expect(Object.keys(responses['200'].content)).toEqual(['application/json']);
    expect(Object.keys(responses['400'].content)).toEqual(['application/problem+json']);
    expect(Object.keys(responses['503'].content)).toEqual(['application/problem+json']);
    const answer = await app.inject({ method: 'GET', url: '/v1/things' });
    expect([answer.statusCode, answer.headers['content-type']]).toEqual([400, 'application/problem+json; charset=utf-8']);
    await app.close();
  });
});
