# The cleanup job's image: built with dev dependencies, run with production ones only.
# NODE_IMAGE is any Node.js 22 image (Debian-based: it needs sh, mkdir and chown for the steps below).
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --no-audit --no-fund
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY fixtures ./fixtures
COPY jobs ./jobs
# Audit logs and manifests live on the /data volume, written by an unprivileged user.
RUN mkdir -p /data/runs && chown -R 1000:1000 /data
USER 1000:1000
WORKDIR /data
VOLUME /data
# The CLI is PID 1 and handles SIGTERM itself: it stops dispatching, drains and exits 143.
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["run", "--job", "/app/jobs/nightly-cleanup.json"]
