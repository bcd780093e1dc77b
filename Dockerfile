# The cleanup job's image: built with dev dependencies, run with production ones only.
# NODE_IMAGE is any Node.js 26 image (the Active LTS line, supported until April 2029: the longest life
# for a job that runs for years); the steps below need only node, npm and /bin/sh in it.
ARG NODE_IMAGE=node:26-trixie-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY src ./src
COPY scripts/build.mjs ./scripts/
RUN node scripts/build.mjs

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY fixtures ./fixtures
COPY jobs ./jobs
# Audit logs and manifests live on the /data volume, written by an unprivileged user.
RUN node -e "const fs = require('fs'); fs.mkdirSync('/data/runs', { recursive: true }); for (const d of ['/data', '/data/runs']) fs.chownSync(d, 1000, 1000)"
USER 1000:1000
WORKDIR /data
VOLUME /data
# The CLI is PID 1 and handles SIGTERM itself: it stops dispatching, drains and exits 143.
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["run", "--job", "/app/jobs/nightly-cleanup.json"]
