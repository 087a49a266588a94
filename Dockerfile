# One image for every service; the command picks the service (see docker-compose.yml).
# Production dependencies only, and no build step: Node 24 strips the (erasable) TypeScript types itself,
# so the services run as `node services/<name>/src/server.ts`, without tsx.
FROM node:24-slim AS dependencies
WORKDIR /app
RUN corepack enable
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY packages/cli/package.json packages/cli/
COPY packages/client/package.json packages/client/
COPY packages/shared/package.json packages/shared/
COPY packages/testkit/package.json packages/testkit/
COPY services/gateway/package.json services/gateway/
COPY services/inventory/package.json services/inventory/
COPY services/issuance/package.json services/issuance/
COPY services/redemption/package.json services/redemption/
COPY services/notifications/package.json services/notifications/
COPY services/octo/package.json services/octo/
RUN pnpm install --frozen-lockfile --prod --ignore-scripts

FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0
# The source is owned by root and read-only to the service user: a compromised process cannot rewrite it.
COPY --from=dependencies /app ./
COPY packages packages
COPY services services
COPY scripts scripts
USER node
CMD ["node", "--max-semi-space-size=16", "services/gateway/src/server.ts"]
