# One image for every service and the provision job (docker-compose.yml picks the
# command). Services run their TypeScript through tsx, as `npm start` does locally.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY services services
RUN find services -mindepth 2 -not -name package.json -not -type d -delete \
 && npm ci --no-audit --no-fund
COPY . .
# The wall display is built here (Vite is a dev dependency) and served by the live gateway.
RUN npm run typecheck && npm run build:wall && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app /app
USER node
CMD ["node", "--import", "tsx", "infra/provision/main.ts"]
