// Public surface of src/headers: pure functions for the ten client-certificate headers (docs/edge-behaviour.md §4, §6).
export { onelineDnBytes, firstCnBytes, shortNameForOid } from './onelineDn.js';
export { haproxyTime, type CertTimeTag } from './certTime.js';
export { rawCertFields, type RawCertFields, type RawCertTime } from './certFields.js';
export { sessionIdFromSessionDer } from './sessionId.js';
export {
  clientCertHeaderValues,
  legacyHeaderText,
  type ClientCertFacts,
  type ClientCertValueOptions,
} from './clientCertValues.js';
export {
  FORWARDED_CLIENT_CERT_MODES,
  DEFAULT_FORWARDED_CLIENT_CERT_MODE,
  MODE_TABLE,
  PASS_THROUGH_POLICY,
  headerPolicy,
  parseForwardedClientCertMode,
  type DeleteRule,
  type ForwardedClientCertMode,
  type HeaderPolicy,
  type ModeTableRow,
} from './modeTable.js';
export {
  H10_SET_ORDER,
  ROUTE_SERVICE_SIGNATURE_HEADER,
  applyClientCertPolicy,
  isH10HeaderName,
  type ClientCertEdit,
} from './h10.js';
