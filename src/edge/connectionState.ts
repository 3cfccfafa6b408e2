// What the edge knows about one client connection. The ten header values belong to the TLS session,
// so they are computed once, at the first request (the TLS 1.3 session ID only exists by then), and
// reused by every request on the connection.
import type { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { sessionIdFromSessionDer } from '../headers/sessionId.js';
import type { CertSummary, HeaderPair, VerifyResult } from '../observe/events.js';
import type { VerifyOutcome } from '../tls/verifyOutcome.js';
import type { TlsProfile } from '../tls/tlsProfiles.js';
import type { CertInfo } from './certInfoCache.js';

export interface ConnectionState {
  readonly tlsConfig: string;
  readonly sni: string | null;
  readonly clientAuthOn: boolean;
  /** A certificate was presented and the handshake succeeded (verified, or its errors ignored). */
  readonly certUsed: boolean;
  readonly outcome: VerifyOutcome;
  readonly cert: CertSummary | null;
  readonly verify: VerifyResult | null;
  readonly mappedUser: string | null;
  /** Set when explain mode kept a rejected connection open to explain the rejection. */
  readonly rejected: boolean;
  readonly certInfo: CertInfo | null;
  /** Known at the handshake for TLS 1.2; TLS 1.3 assigns it by the first request. */
  readonly sessionId: Buffer | null;
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

export function newConnectionState(profile: TlsProfile, sni: string | null, outcome: VerifyOutcome, certInfo: CertInfo | null, sessionId: Buffer | null, rejected: boolean): ConnectionState {
  const verify: VerifyResult | null = outcome.kind === 'cert' ? { code: outcome.code, name: outcome.info.name, hint: outcome.info.hint } : null;
  return {
    tlsConfig: profile.resolved.name,
    sni,
    clientAuthOn: profile.resolved.clientAuth !== 'disabled',
    certUsed: outcome.kind === 'cert' && outcome.accepted,
    outcome,
    cert: certInfo?.summary ?? null,
    verify,
    mappedUser: certInfo && outcome.accepted ? certInfo.mappedUser : null,
    rejected,
    certInfo,
    sessionId,
    h10Values: undefined,
  };
}

const HEX = '0123456789ABCDEF';
function upperHex(bytes: Uint8Array | null): string {
  if (!bytes) return '';
  let out = '';
  for (const b of bytes) out += HEX[b >> 4] + HEX[b & 15];
  return out;
}

/** The connection's ten values (null when no certificate was used), computed on first use. */
export function connectionH10Values(state: ConnectionState, socket: TLSSocket): readonly HeaderPair[] | null {
  if (state.h10Values !== undefined) return state.h10Values;
  if (!state.certUsed || !state.certInfo || state.outcome.kind !== 'cert') {
    state.h10Values = null;
    return null;
  }
  state.h10Values = state.certInfo.headerValues(state.outcome.code, upperHex(state.sessionId ?? sessionIdFromSessionDer(socket.getSession())));
  return state.h10Values;
}
