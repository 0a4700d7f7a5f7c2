# One image for every service and the provision job (docker-compose.yml picks the
# command). Services run their TypeScript through tsx, as `npm start` does locally.
# The base is Node's current Active LTS, pinned to a patch release; it must equal
# `images.node` in infra/containers/images.ts (a test checks). The code keeps running
# on Node 20 too (package.json engines), where `npm start` and the tests run.
FROM node:26.13.0-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY services services
RUN find services -mindepth 2 -not -name package.json -not -type d -delete \
 && npm ci --no-audit --no-fund
COPY . .
# The wall display is built here (Vite is a dev dependency) and served by the live gateway.
RUN npm run typecheck && npm run build:wall && npm prune --omit=dev

FROM node:26.13.0-trixie-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app /app
USER node
CMD ["node", "--import", "tsx", "infra/provision/main.ts"]
