// The OpenAPI 3.1 document, generated from the same route catalogue and zod schemas that validate
// requests in the services, so the documentation cannot drift from the behaviour.
import {
  ERROR_STATUS,
  type ErrorCode,
  octoError,
  octoErrorOf,
  problem,
  type RouteAuth,
  type RouteDef,
} from '@cruise/shared';
import { z } from 'zod';
import { FIELD_DOCS, OPERATION_DOCS, TAG_DOCS, undocumentedOperations } from './examples.ts';

type JsonSchema = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string; license: { name: string; url: string } };
  servers: { url: string }[];
  tags: { name: string; description?: string }[];
  paths: Record<string, Record<string, unknown>>;
  components: {
    schemas: Record<string, JsonSchema>;
    securitySchemes: Record<string, unknown>;
    headers: Record<string, unknown>;
    responses: Record<string, unknown>;
  };
}

const DESCRIPTION = `Public API of the cruise ticketing platform. Every error is RFC 9457
\`application/problem+json\` with a stable \`code\`. Partners authenticate with an API key
(\`Authorization: Bearer <key>\` or \`X-API-Key\`), operators with the operator token, scanners with
their device key. Each partner has a rolling 60-second limit (default 100 requests); partner responses
carry \`RateLimit-Limit\`, \`RateLimit-Remaining\` and \`RateLimit-Reset\` (seconds until a unit of quota
returns), and a 429 carries \`Retry-After\`. Requests without valid credentials, and public routes, are
limited per client IP. Payment notifications and scanner calls are not throttled while they succeed;
the ones refused for a bad signature or device key count against the sender's IP budget.`;

const SECURITY: Record<RouteAuth, Record<string, string[]>[]> = {
  partner: [{ partnerKey: [] }, { partnerApiKeyHeader: [] }],
  admin: [{ adminToken: [] }],
  'partner-or-admin': [{ partnerKey: [] }, { partnerApiKeyHeader: [] }, { adminToken: [] }],
  device: [{ deviceKey: [] }],
  webhook: [{ paymentSignature: [] }],
  public: [],
};

/** Errors the gateway itself may answer on a route, beyond those the route lists. */
function edgeErrors(route: RouteDef): ErrorCode[] {
  const codes: ErrorCode[] = ['SERVICE_UNAVAILABLE', 'PAYLOAD_TOO_LARGE'];
  codes.push('RATE_LIMITED');
  if (route.auth === 'partner' || route.auth === 'partner-or-admin')
    codes.push('UNAUTHORIZED', 'PARTNER_SUSPENDED');
  if (route.auth === 'admin') codes.push('UNAUTHORIZED');
  return codes;
}

/** Converts a zod schema, moving its named definitions into `components.schemas`. */
function converter(components: Record<string, JsonSchema>) {
  return (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
    const json = z.toJSONSchema(schema, {
      io,
      unrepresentable: 'any',
      target: 'draft-2020-12',
    }) as JsonSchema;
    const { $schema: _ignored, $defs, ...rest } = json;
    for (const [name, def] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) {
      components[name] ??= rewriteRefs(def) as JsonSchema;
    }
    return rewriteRefs(rest) as JsonSchema;
  };
}

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        k === '$ref' && typeof v === 'string'
          ? v.replace('#/$defs/', '#/components/schemas/')
          : rewriteRefs(v),
      ]),
    );
  }
  return value;
}

export function openApiPath(fastifyPath: string): string {
  return fastifyPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

/** Headers that a security scheme already describes (listing them as parameters too would repeat them). */
const SECURITY_HEADERS = new Set(['x-payment-signature', 'authorization', 'x-api-key']);

function parameters(
  convert: ReturnType<typeof converter>,
  schema: z.ZodObject | undefined,
  where: 'path' | 'query' | 'header',
  examples: Record<string, unknown> = {},
): unknown[] {
  if (!schema) return [];
  const json = convert(schema, 'input');
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties)
    .filter(([name]) => !(where === 'header' && SECURITY_HEADERS.has(name.toLowerCase())))
    .map(([name, s]) => {
      const { description, ...rest } = s;
      const text = description ?? KNOWN_PARAMETERS[name];
      return {
        name,
        in: where,
        required: where === 'path' || required.has(name),
        ...(text ? { description: text } : {}),
        schema: rest,
        ...(examples[name] !== undefined ? { example: examples[name] } : {}),
      };
    });
}

const KNOWN_PARAMETERS: Record<string, string> = {
  'idempotency-key':
    'Any string up to 255 characters. A repeat with the same body returns the original response ' +
    '(status and body) for at least 24 h without repeating the work; with a different body → 422 ' +
    'IDEMPOTENCY_KEY_REUSED.',
  page: 'Page number, from 1 (default 1). Not together with `cursor`: 400.',
  cursor:
    "The previous page's `next_cursor` (opaque): continues after that page's last row, instead of `page`. " +
    'A cursor page costs the same at any depth, and rows created meanwhile do not shift the walk. A cursor ' +
    'this list did not issue (or issued for another order, e.g. with or without `batch_id`) → 400.',
  page_size: 'Items per page, 1..500.',
  visit_date: "The visit date (YYYY-MM-DD); default today in the venue's time zone.",
  from: 'Start of the range (inclusive): a date YYYY-MM-DD or a date-time.',
  to: 'End of the range: a date YYYY-MM-DD or a date-time.',
  created_from: 'Created at or after this date or date-time (inclusive).',
  created_to: 'Created before this date or date-time (exclusive).',
  status: 'Only items in this status.',
  ticket_code: 'The ticket code (opaque; it is also the secret of the ticket info page).',
};

/** Operations whose 202 names the work to poll (`Location`) and when (`Retry-After`). */
const POLLED_OPERATIONS = new Set(['bulkGenerateTickets']);
const ASYNC_HEADERS = {
  Location: { $ref: '#/components/headers/Location' },
  'Retry-After': { $ref: '#/components/headers/RetryAfter' },
};

/** Operations of `routes` without a description or example in examples.ts, with what each lacks. */
export function documentationGaps(routes: RouteDef[]): string[] {
  return undocumentedOperations(
    routes.map((r) => ({
      operationId: r.operationId,
      hasDescription: Boolean(r.description),
      hasBody: r.body !== undefined,
      successStatuses: Object.keys(r.response).map(Number),
    })),
  );
}

const REQUEST_ID_HEADER = { 'X-Request-Id': { $ref: '#/components/headers/XRequestId' } };

const PARTNER_LIMIT_HEADERS = {
  'RateLimit-Limit': { $ref: '#/components/headers/RateLimitLimit' },
  'RateLimit-Remaining': { $ref: '#/components/headers/RateLimitRemaining' },
  'RateLimit-Reset': { $ref: '#/components/headers/RateLimitReset' },
};

export function buildOpenApiDocument(routes: RouteDef[]): OpenApiDocument {
  const schemas: Record<string, JsonSchema> = {};
  const convert = converter(schemas);
  convert(problem, 'output'); // registers the Problem component
  convert(octoError, 'output'); // and the OctoError one
  const paths: OpenApiDocument['paths'] = {};
  const tags = new Set<string>();

  for (const route of routes) {
    for (const tag of route.tags) tags.add(tag);
    const limited = route.auth === 'partner' || route.auth === 'partner-or-admin';
    const responses: Record<string, unknown> = {};
    const docs = OPERATION_DOCS[route.operationId];
    for (const [status, schema] of Object.entries(route.response)) {
      const json = Number(status) === 204 ? undefined : convert(schema, 'output');
      const example = docs?.responses[Number(status)];
      const headers = limited ? { ...REQUEST_ID_HEADER, ...PARTNER_LIMIT_HEADERS } : REQUEST_ID_HEADER;
      const polled = Number(status) === 202 && POLLED_OPERATIONS.has(route.operationId);
      responses[status] = {
        description:
          Number(status) === 204
            ? 'No content'
            : Number(status) === 202
              ? polled
                ? 'Accepted: poll the Location'
                : 'Accepted'
              : 'Success',
        headers: polled ? { ...headers, ...ASYNC_HEADERS } : headers,
        ...(json
          ? {
              content: {
                [contentTypeOf(route)]: { schema: json, ...(example != null ? { example } : {}) },
              },
            }
          : {}),
      };
    }
    const byStatus = new Map<number, Set<ErrorCode>>();
    for (const code of [...route.errors, ...edgeErrors(route)]) {
      const status = ERROR_STATUS[code];
      if (!byStatus.has(status)) byStatus.set(status, new Set());
      byStatus.get(status)!.add(code);
    }
    if (route.service === 'octo') {
      // OCTO routes answer errors in OCTO's shape (see the OctoError schema), never problem+json.
      const octoStatuses = new Map<number, Set<string>>();
      for (const [status, codes] of byStatus) {
        for (const code of codes) {
          const mapped = octoErrorOf(code, status, '');
          if (!octoStatuses.has(mapped.status)) octoStatuses.set(mapped.status, new Set());
          octoStatuses.get(mapped.status)!.add(mapped.body.error);
        }
      }
      octoStatuses.get(400)?.add('BAD_REQUEST') ?? octoStatuses.set(400, new Set(['BAD_REQUEST']));
      octoStatuses.set(500, new Set(['INTERNAL_SERVER_ERROR']));
      for (const [status, codes] of [...octoStatuses].sort(([a], [b]) => a - b)) {
        responses[String(status)] = {
          description: `OCTO error: ${[...codes].join(', ')}${status === 400 ? ' (and INVALID_* / UNPROCESSABLE_ENTITY per the OCTO specification)' : ''}`,
          headers: REQUEST_ID_HEADER,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/OctoError' } } },
        };
      }
      byStatus.clear();
    }
    for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
      responses[String(status)] = {
        description: `Problem: ${[...codes].join(', ')}`,
        headers:
          status === 429
            ? { ...REQUEST_ID_HEADER, 'Retry-After': { $ref: '#/components/headers/RetryAfter' } }
            : REQUEST_ID_HEADER,
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      };
    }
    // The operation's text from examples.ts, then the contract's own (e.g. how to verify a webhook).
    const description = [docs?.description, route.description].filter(Boolean).join('\n\n');
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      ...(description ? { description } : {}),
      tags: route.tags,
      security: SECURITY[route.auth],
      parameters: [
        ...parameters(convert, route.params, 'path', docs?.parameters),
        ...parameters(convert, route.querystring, 'query', docs?.parameters),
        ...parameters(convert, route.headers, 'header', docs?.parameters),
      ],
      responses,
    };
    if (route.body) {
      operation.requestBody = {
        required: true,
        content: {
          'application/json': {
            schema: convert(route.body, 'input'),
            ...(docs?.request !== undefined ? { example: docs.request } : {}),
          },
        },
      };
    }
    const path = openApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operation;
  }

  describeFields(schemas);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Cruise ticketing API',
      version: '1.0.0',
      description: DESCRIPTION,
      license: { name: 'Proprietary', url: 'https://docs.cruise-tickets.dev/license' },
    },
    servers: [{ url: '/' }],
    tags: [...tags].sort().map((name) => (TAG_DOCS[name] ? { name, description: TAG_DOCS[name] } : { name })),
    paths,
    components: {
      schemas,
      securitySchemes: {
        partnerKey: { type: 'http', scheme: 'bearer', description: 'Partner API key (ck_live_…)' },
        partnerApiKeyHeader: {
          type: 'apiKey',
          in: 'header',
          name: 'X-API-Key',
          description: 'Partner API key',
        },
        adminToken: { type: 'http', scheme: 'bearer', description: 'Operator token (ADMIN_TOKEN)' },
        deviceKey: { type: 'http', scheme: 'bearer', description: 'Scanner device key' },
        paymentSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Payment-Signature',
          description:
            '`t=<unix seconds>,v1=<hex>` where v1 = HMAC-SHA256(PAYMENT_WEBHOOK_SECRET, "<t>." + raw body). ' +
            'Missing, wrong, or older than 300 s: 401 INVALID_SIGNATURE. With openssl: ' +
            '`printf "%s.%s" "$T" "$BODY" | openssl dgst -sha256 -hmac "$SECRET"`.',
        },
      },
      headers: {
        RateLimitLimit: { description: 'Requests allowed per rolling minute', schema: { type: 'integer' } },
        RateLimitRemaining: {
          description: 'Requests left in the current window',
          schema: { type: 'integer' },
        },
        RateLimitReset: {
          description: 'Seconds until the oldest counted request leaves the window',
          schema: { type: 'integer' },
        },
        RetryAfter: { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
        Location: { description: 'Where to poll the accepted work', schema: { type: 'string' } },
        XRequestId: {
          description: 'The request id: the one sent in X-Request-Id when given, otherwise generated',
          schema: { type: 'string' },
        },
      },
      responses: {},
    },
  };
}

/** Adds FIELD_DOCS descriptions to component properties that have none, and the Problem example. */
function describeFields(schemas: Record<string, JsonSchema>): void {
  for (const [name, fields] of Object.entries(FIELD_DOCS)) {
    const properties = schemas[name]?.properties as Record<string, JsonSchema> | undefined;
    if (!properties) continue;
    for (const [field, text] of Object.entries(fields)) {
      const property = properties[field];
      if (property && property.description === undefined) property.description = text;
    }
  }
  if (schemas.Problem) {
    schemas.Problem.example = {
      type: 'https://docs.cruise-tickets.dev/errors/insufficient-inventory',
      title: 'Insufficient inventory',
      status: 409,
      code: 'INSUFFICIENT_INVENTORY',
      detail: 'Only 3 units of product 106 are available in channel ota',
      request_id: '4c1f9e0a-6b2d-4e8f-9a1c-3d5e7f9b1c2d',
    };
  }
}

function contentTypeOf(route: RouteDef): string {
  return route.path.endsWith('.csv') ? 'text/csv' : 'application/json';
}
