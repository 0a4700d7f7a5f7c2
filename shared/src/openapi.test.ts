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

  it('documents the 414 fastify answers for a path parameter over its maxParamLength, on operations with path parameters', async () => {
    const app = Fastify();
    installProblemHandler(app);
    await registerApiDocs(app, { title: 'test', description: 'test API' });
    const Thing = Type.Object({ n: Type.Integer() });
    const params = Type.Object({ id: Type.String({ maxLength: 10 }) });
    app.get('/v1/things/:id', { schema: { params, response: { 200: Thing, 404: ProblemDocument } } }, async () => ({ n: 1 }));
    app.get('/v1/things', { schema: { response: { 200: Thing } } }, async () => ({ n: 1 }));
    await app.ready();
    const paths = (await app.inject({ method: 'GET', url: '/docs/json' })).json().paths;
    expect(Object.keys(paths['/v1/things/{id}'].get.responses)).toEqual(['200', '404', '414']);
    const tooLong = paths['/v1/things/{id}'].get.responses['414'].content['application/problem+json'].schema;
    expect(tooLong).toMatchObject({ title: 'Problem', required: ['type', 'title', 'status', 'detail'] });
    expect(Object.keys(paths['/v1/things'].get.responses)).toEqual(['200']);
    expect((await app.inject({ method: 'GET', url: `/v1/things/${'x'.repeat(101)}` })).statusCode).toBe(414);
    await app.close();
  });
});
