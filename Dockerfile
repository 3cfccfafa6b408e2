# mtls-edge: node 20 + openssl (the PKI tooling calls it).
FROM node:20-slim
RUN apt-get update && apt-get install -y --no-install-recommends openssl && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/mtls-edge
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY test ./test
COPY bench ./bench
RUN npm ci --no-audit --no-fund && npm prune --omit=dev
EXPOSE 8443 8080 9901
# Node flags: why, src/cli/nodeFlags.ts.
ENTRYPOINT ["node", "--max-semi-space-size=2", "--v8-pool-size=1", "/opt/mtls-edge/bin/mtls-edge.js"]
CMD ["start"]
