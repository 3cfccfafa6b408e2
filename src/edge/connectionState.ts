// What the edge knows about one client connection. The ten header values belong to the TLS session,
// so they are computed once, at the first request (the TLS 1.3 session ID only exists by then), and
// reused by every request on the connection.
import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { clientCertHeaderValues } from '../headers/clientCertValues.js';
import { sessionIdFromSessionDer } from '../headers/sessionId.js';
import type { CertSummary, HeaderPair, VerifyResult } from '../observe/events.js';
import type { VerifyOutcome } from '../tls/verifyOutcome.js';
import { verifiedChain } from '../tls/verifyOutcome.js';
import type { TlsProfile } from '../tls/tlsProfiles.js';

export interface ConnectionState {
  readonly tlsConfig: string;
  readonly sni: string | null;
  readonly clientAuthOn: boolean;
  /** A certificate was presented and the handshake succeeded (verified, or its errors ignored). */
  readonly certUsed: boolean;
  readonly outcome: VerifyOutcome;
  readonly leaf: X509Certificate | undefined;
  readonly cert: CertSummary | null;
  readonly verify: VerifyResult | null;
  readonly mappedUser: string | null;
  /** Set when explain mode kept a rejected connection open to explain the rejection. */
  readonly rejected: boolean;
  /** The TLS configuration's trust list, to complete the chain up to its root. */
  readonly trustCerts: readonly X509Certificate[];
  h10Values: readonly HeaderPair[] | null | undefined;
}

const STATE = Symbol('mtls-edge.connection-state');
type WithState = Socket & { [STATE]?: ConnectionState };

export function attachState(socket: Socket, state: ConnectionState): void {
  (socket as WithState)[STATE] = state;
}

export function stateOf(socket: Socket): ConnectionState | undefined {
  return (socket as WithState)[STATE];
}

/** RFC 2253-like one-line form of Node's multi-line DN ("C=DE\nCN=x" → "CN=x,C=DE"). */
export function rfc2253(nodeDn: string): string {
  return nodeDn.split('\n').filter(Boolean).reverse().join(',');
}

function cnOf(nodeDn: string): string | null {
  const line = nodeDn.split('\n').find((l) => l.startsWith('CN='));
  return line ? line.slice(3) : null;
}

export function certSummary(c: X509Certificate): CertSummary {
  return {
    subject: rfc2253(c.subject),
    issuer: rfc2253(c.issuer),
    subjectCN: cnOf(c.subject),
    issuerCN: cnOf(c.issuer),
    serialNumber: c.serialNumber,
    validFrom: c.validFrom,
    validTo: c.validTo,
    fingerprint256: c.fingerprint256,
  };
}

export interface UserMappingLookup {
  (leaf: X509Certificate): string | null;
}

export function newConnectionState(profile: TlsProfile, sni: string | null, outcome: VerifyOutcome, leaf: X509Certificate | undefined, mapUser: UserMappingLookup, rejected: boolean): ConnectionState {
  const cert = leaf ? certSummary(leaf) : null;
  const verify: VerifyResult | null = outcome.kind === 'cert' ? { code: outcome.code, name: outcome.info.name, hint: outcome.info.hint } : null;
  return {
    tlsConfig: profile.resolved.name,
    sni,
    clientAuthOn: profile.resolved.clientAuth !== 'disabled',
    certUsed: outcome.kind === 'cert' && outcome.accepted,
    outcome,
    leaf,
    cert,
    verify,
    mappedUser: leaf && outcome.accepted ? mapUser(leaf) : null,
    rejected,
    trustCerts: profile.resolved.trustCerts,
    h10Values: undefined,
  };
}

/** The connection's ten values (null when no certificate was used), computed on first use. */
export function connectionH10Values(state: ConnectionState, socket: TLSSocket, legacyXfccHeaderMapping: boolean): readonly HeaderPair[] | null {
  if (state.h10Values !== undefined) return state.h10Values;
  if (!state.certUsed || !state.leaf || state.outcome.kind !== 'cert') {
    state.h10Values = null;
    return null;
  }
  state.h10Values = clientCertHeaderValues(
    {
      leafDer: state.leaf.raw,
      chainDer: verifiedChain(state.leaf, state.trustCerts).map((c) => c.raw),
      verifyCode: state.outcome.code,
      sessionId: sessionIdFromSessionDer(socket.getSession()),
    },
    { legacyXfccHeaderMapping },
  );
  return state.h10Values;
}
