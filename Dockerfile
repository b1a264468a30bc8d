# switchyard: the compiled gateway on a slim Node image, run as the unprivileged `node` user.
# Build: docker build -t switchyard .   Run: see deploy/compose.yaml and deploy/k8s/.

# Stage 1: compile TypeScript to dist/ with the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# No install scripts: `prepare` would build before the sources are copied.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY core ./core
COPY lib ./lib
COPY load ./load
COPY cli ./cli
COPY plugins ./plugins
COPY testkit ./testkit
COPY schemas ./schemas
RUN npm run build

# Stage 2: production dependencies only, the compiled JavaScript and the schemas it reads.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY schemas ./schemas
COPY pipelines ./pipelines
# Records spool (record-postgres) and other local state: the only directory the process writes.
RUN mkdir -p /var/lib/switchyard && chown node:node /var/lib/switchyard
USER node
EXPOSE 8080
# SIGTERM drains: /readyz turns 503, requests and streams finish, records are flushed, exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve", "/etc/switchyard/pipelines"]
