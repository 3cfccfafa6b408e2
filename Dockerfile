# mtls-edge: node 20 + openssl (the PKI tooling calls it).
FROM node:20-slim
RUN apt-get update && apt-get install -y --no-install-recommends openssl && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/mtls-edge
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
# Only src/ is copied, so `npm ci` (its prepare script, tsc) builds dist/src and nothing else.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev
EXPOSE 8443 8080 9901
ENTRYPOINT ["node", "/opt/mtls-edge/bin/mtls-edge.js"]
CMD ["start"]
