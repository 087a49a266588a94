# One image for every service; the command picks the service (see docker-compose.yml).
FROM node:24-slim
WORKDIR /app
RUN corepack enable
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.base.json ./
COPY packages/shared/package.json packages/shared/
COPY packages/testkit/package.json packages/testkit/
COPY services/gateway/package.json services/gateway/
COPY services/inventory/package.json services/inventory/
COPY services/issuance/package.json services/issuance/
COPY services/redemption/package.json services/redemption/
RUN pnpm install --frozen-lockfile
COPY packages packages
COPY services services
COPY scripts scripts
ENV NODE_ENV=production HOST=0.0.0.0
USER node
CMD ["node", "--max-semi-space-size=16", "--import", "tsx", "services/gateway/src/server.ts"]
