# mtls-edge on node 20; the dev PKI is made in-process, so no openssl package.
FROM node:20-slim
WORKDIR /opt/mtls-edge
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
# Only src/ is copied, so `npm ci` (its prepare script, tsc) builds dist/src and nothing else.
# certs/: where `docker run <image>` (no compose, working directory here) writes its dev PKI as node.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev && mkdir certs && chown node:node certs
# Not root: the image's `node` user (1000:1000); docker-compose.yml runs it as the host user instead,
# so the keys it writes into the mounted certs folder belong to whoever runs compose.
USER node
EXPOSE 8443 8080 9901
# Inside a container the listeners must bind every interface for a published port to reach them
# (the edge's own default is loopback). An environment variable, not a CMD flag: `docker run <image>
# start <flags>` replaces CMD. A configuration's `bind:` or --bind still wins.
ENV MTLS_EDGE_BIND=0.0.0.0
ENTRYPOINT ["node", "/opt/mtls-edge/bin/mtls-edge.js"]
CMD ["start"]
