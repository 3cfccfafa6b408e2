// mtls-edge/app: what an app behind the edge imports (docs/app-reader.md).
export { readClientCert, type ReadOptions } from './readClientCert.js';
export { requireClientCert, type AllowList, type RequestWithClientCert, type RequireClientCertOptions } from './middleware.js';
export type { ClientCertificate, ClientCertResult, Dialect, SubjectAltNames, VerifiedBasis } from './result.js';
export type { HeaderSource, HeadersLike } from './headerSource.js';
