// The OpenAPI 3.1 document is generated from the contract's route catalogue: every public route is
// listed with its auth, parameters, body and problem responses, and every reference resolves.
import { allRoutes } from '@cruise/shared';
import { createTestContext, type TestContext } from '@cruise/testkit';
import {
  zAvailability,
  zAvailabilityCalendar,
  zAvailabilityCalendarBody,
  zAvailabilityCheckBody,
  zBooking,
  zBookingCancellationBody,
  zBookingConfirmationBody,
  zBookingReservationBody,
  zExtendReservationBody,
  zProduct,
  zSupplier,
} from '@octocloud/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument, documentationGaps, openApiPath } from '../src/openapi/document.ts';
import { OPERATION_DOCS } from '../src/openapi/examples.ts';
import { ADMIN_TOKEN, type Gateway, startGateway, testRoutes } from './harness.ts';

let ctx: TestContext;
let gw: Gateway;

beforeAll(async () => {
  ctx = await createTestContext({ ADMIN_TOKEN });
  gw = await startGateway(ctx.config, allRoutes); // the real catalogue, as served in production
});

afterAll(async () => {
  await gw?.close();
  await ctx?.cleanup();
});

type Doc = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: {
    schemas: Record<string, unknown>;
    securitySchemes: Record<string, unknown>;
    headers: Record<string, unknown>;
  };
};

function refsOf(value: unknown, into: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refsOf(v, into);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') into.push(v);
      else refsOf(v, into);
    }
  }
  return into;
}

function resolve(doc: Doc, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], doc);
}

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 and lists every route of the catalogue exactly once', async () => {
    const res = await gw.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/json');
    const doc = res.json() as Doc;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBeTruthy();
    expect(allRoutes.length).toBeGreaterThanOrEqual(7);

    const operationIds = new Set<string>();
    for (const route of allRoutes) {
      const path = route.path.replace(/:(\w+)/g, '{$1}');
      const op = doc.paths[path]?.[route.method.toLowerCase()] as
        | {
            operationId: string;
            security: unknown[];
            parameters: { name: string; in: string; required: boolean }[];
            responses: Record<string, unknown>;
            requestBody?: unknown;
          }
        | undefined;
      expect(op, `${route.method} ${route.path}`).toBeDefined();
      expect(op!.operationId).toBe(route.operationId);
      expect(operationIds.has(route.operationId), `duplicate ${route.operationId}`).toBe(false);
      operationIds.add(route.operationId);
      // Every path template variable is declared as a required path parameter.
      for (const [, name] of path.matchAll(/\{(\w+)\}/g)) {
        expect(
          op!.parameters.find((p) => p.in === 'path' && p.name === name),
          `${path} ${name}`,
        ).toMatchObject({ required: true });
      }
      for (const status of Object.keys(route.response)) expect(op!.responses[status]).toBeDefined();
      for (const code of route.errors) {
        const status = Object.keys(op!.responses).find((s) =>
          String((op!.responses[s] as { description: string }).description).includes(code),
        );
        expect(status, `${route.operationId} documents ${code}`).toBeDefined();
      }
      if (route.body) expect(op!.requestBody).toBeDefined();
      if (route.auth === 'partner')
        expect(op!.security).toEqual([{ partnerKey: [] }, { partnerApiKeyHeader: [] }]);
      if (route.auth === 'admin') expect(op!.security).toEqual([{ adminToken: [] }]);
      if (route.auth === 'device') expect(op!.security).toEqual([{ deviceKey: [] }]);
      if (route.auth === 'public') expect(op!.security).toEqual([]);
      if (route.auth === 'webhook') expect(op!.security).toEqual([{ paymentSignature: [] }]);
    }
    const documented = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
    expect(documented).toBe(allRoutes.length);
  });

  it('has the Problem component, the security schemes, and no dangling references', async () => {
    const doc = (await gw.app.inject({ method: 'GET', url: '/openapi.json' })).json() as Doc;
    expect(doc.components.schemas.Problem).toMatchObject({
      type: 'object',
      required: expect.arrayContaining(['type', 'title', 'status', 'code']),
    });
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual([
      'adminToken',
      'deviceKey',
      'partnerApiKeyHeader',
      'partnerKey',
      'paymentSignature',
    ]);
    const refs = refsOf(doc);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) expect(resolve(doc, ref), ref).toBeDefined();
    expect(JSON.stringify(doc)).not.toContain('$defs');
    expect(JSON.stringify(doc)).not.toContain('"$schema"');

    const create = doc.paths['/api/admin/partners']!.post as {
      responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
      parameters: { name: string; in: string }[];
    };
    expect(create.responses['201']!.content!['application/json']!.schema).toEqual({
      $ref: '#/components/schemas/CreatedPartner',
    });
    expect(create.responses['422']!.content!['application/problem+json']!.schema).toEqual({
      $ref: '#/components/schemas/Problem',
    });
    expect(create.parameters).toContainEqual(
      expect.objectContaining({ name: 'idempotency-key', in: 'header' }),
    );
  });

  it('documents rate-limit headers and 429 on partner routes', async () => {
    const doc = (await startGateway(ctx.config, testRoutes).then(async (g) => {
      const body = (await g.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      await g.close();
      return body;
    })) as Doc;
    const echo = doc.paths['/api/ota/echo']!.post as {
      responses: Record<string, { headers?: Record<string, unknown> }>;
    };
    expect(Object.keys(echo.responses['200']!.headers!)).toEqual([
      'X-Request-Id',
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
    ]);
    expect(Object.keys(echo.responses['429']!.headers!)).toEqual(['X-Request-Id', 'Retry-After']);
    expect(echo.responses['401']).toBeDefined();
    expect(echo.responses['403']).toBeDefined();
  });

  it('describes the webhook signature once, as a security scheme, not as a header parameter too', async () => {
    const doc = (await gw.app.inject({ method: 'GET', url: '/openapi.json' })).json() as Doc;
    const notify = doc.paths['/payments/notify']!.post as {
      security: unknown[];
      parameters: { name: string; in: string }[];
    };
    expect(notify.security).toEqual([{ paymentSignature: [] }]);
    expect(notify.parameters.filter((p) => p.name.toLowerCase() === 'x-payment-signature')).toEqual([]);
    expect(doc.components.securitySchemes.paymentSignature).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'X-Payment-Signature',
    });
  });

  it('gives every operation a description and example request/response, and every tag a description', async () => {
    // Names what is missing, so whoever adds a route knows what to write in openapi/examples.ts.
    expect(documentationGaps(allRoutes)).toEqual([]);
    const doc = (await gw.app.inject({ method: 'GET', url: '/openapi.json' })).json() as Doc & {
      tags: { name: string; description?: string }[];
    };
    for (const tag of doc.tags) expect(tag.description, tag.name).toBeTruthy();
    for (const route of allRoutes) {
      const op = doc.paths[openApiPath(route.path)]![route.method.toLowerCase()] as {
        description?: string;
        requestBody?: { content: Record<string, { example?: unknown }> };
        responses: Record<string, { content?: Record<string, { example?: unknown }> }>;
      };
      expect(op.description, route.operationId).toBeTruthy();
      if (route.body)
        expect(op.requestBody!.content['application/json']!.example, route.operationId).toBeDefined();
      for (const status of Object.keys(route.response)) {
        const content = op.responses[status]!.content;
        if (content)
          expect(Object.values(content)[0]!.example, `${route.operationId} ${status}`).toBeDefined();
      }
    }
  });

  it('names the poll URL and the wait on the 202 of bulk generation', async () => {
    const doc = (await gw.app.inject({ method: 'GET', url: '/openapi.json' })).json() as Doc;
    const bulk = doc.paths['/api/ota/tickets/bulk-generate']!.post as {
      responses: Record<string, { headers: Record<string, unknown> }>;
    };
    expect(Object.keys(bulk.responses['202']!.headers)).toEqual(
      expect.arrayContaining(['Location', 'Retry-After']),
    );
  });

  it('only the 202 that names work to poll carries Location and Retry-After', async () => {
    const doc = (await gw.app.inject({ method: 'GET', url: '/openapi.json' })).json() as Doc;
    const ping = doc.paths['/api/ota/webhooks/{webhook_id}/test']!.post as {
      responses: Record<string, { headers: Record<string, unknown> }>;
    };
    expect(Object.keys(ping.responses['202']!.headers)).not.toContain('Location');
  });

  it("OCTO examples are what OCTO's own schemas (@octocloud/types) accept", () => {
    const parse: Record<string, { safeParse(v: unknown): { success: boolean; error?: unknown } }> = {
      octoGetSupplier: zSupplier,
      octoGetProduct: zProduct,
      octoCreateBooking: zBooking,
      octoGetBooking: zBooking,
      octoExtendBooking: zBooking,
      octoConfirmBooking: zBooking,
      octoCancelBooking: zBooking,
    };
    const each: Record<string, { safeParse(v: unknown): { success: boolean; error?: unknown } }> = {
      octoGetProducts: zProduct,
      octoAvailabilityCheck: zAvailability,
      octoAvailabilityCalendar: zAvailabilityCalendar,
      octoListBookings: zBooking,
    };
    const requests: Record<string, { safeParse(v: unknown): { success: boolean; error?: unknown } }> = {
      octoAvailabilityCheck: zAvailabilityCheckBody,
      octoAvailabilityCalendar: zAvailabilityCalendarBody,
      octoCreateBooking: zBookingReservationBody,
      octoConfirmBooking: zBookingConfirmationBody,
      octoExtendBooking: zExtendReservationBody,
      octoCancelBooking: zBookingCancellationBody,
    };
    const octoOperations = allRoutes.filter((r) => r.service === 'octo').map((r) => r.operationId);
    expect(Object.keys({ ...parse, ...each }).sort()).toEqual([...octoOperations].sort());
    const check = (what: string, schema: (typeof parse)[string], value: unknown) => {
      const result = schema.safeParse(value);
      expect(result.success, `${what}: ${JSON.stringify(result.error)}`).toBe(true);
    };
    for (const [id, schema] of Object.entries(parse)) check(id, schema, OPERATION_DOCS[id]!.responses[200]);
    for (const [id, schema] of Object.entries(each)) {
      const list = OPERATION_DOCS[id]!.responses[200] as unknown[];
      expect(list.length, id).toBeGreaterThan(0);
      for (const item of list) check(id, schema, item);
    }
    for (const [id, schema] of Object.entries(requests))
      check(`${id} request`, schema, OPERATION_DOCS[id]!.request);
  });

  it('serves exactly the document the lint checks (the same generator over the same catalogue)', async () => {
    const served = (await gw.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(served).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument(allRoutes))));
  });

  it('serves interactive docs at /docs', async () => {
    const res = await gw.app.inject({ method: 'GET', url: '/docs' });
    const page =
      res.statusCode === 302
        ? await gw.app.inject({ method: 'GET', url: res.headers.location as string })
        : res;
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('swagger');
    // Every script and stylesheet the page loads is served too.
    const assets = [...page.body.matchAll(/(?:src|href)="(\/docs\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(2);
    for (const asset of assets) {
      expect((await gw.app.inject({ method: 'GET', url: asset })).statusCode, asset).toBe(200);
    }
    const json = await gw.app.inject({ method: 'GET', url: '/docs/json' });
    expect(json.statusCode).toBe(200);
    expect(json.json().openapi).toBe('3.1.0');
  });
});
