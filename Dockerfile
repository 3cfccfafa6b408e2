# mtls-edge on node 20; the dev PKI is made in-process, so no openssl package.
FROM node:20-slim
WORKDIR /opt/mtls-edge
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
# Only src/ is copied, so `npm ci` (its prepare script, tsc) builds dist/src and nothing else.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev
EXPOSE 8443 8080 9901
ENTRYPOINT ["node", "/opt/mtls-edge/bin/mtls-edge.js"]
CMD ["start"]
