// What the edge knows about one client connection. The ten header values belong to the TLS session,
// so they are computed once, at the first request (the TLS 1.3 session ID only exists by then), and
// reused by every request on the connection. The client certificate's details are derived at that
// first request too: the TLS session is read once, for the leaf and the session ID together.
import type { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { sessionIdFromSessionDer } from '../headers/sessionId.js';
import type { CertSummary, HeaderPair, VerifyResult } from '../observe/events.js';
import type { VerifyOutcome } from '../tls/verifyOutcome.js';
import type { TlsProfile } from '../tls/tlsProfiles.js';
import type { PeerCertificate } from '../tls/peerCertificate.js';
import type { CertInfo } from './certInfoCache.js';

export interface ConnectionState {
  readonly tlsConfig: string;
  readonly sni: string | null;
  /** Read once from the TCP socket at accept. */
  readonly clientAddress: string;
  readonly clientPort: number | undefined;
  readonly clientAuthOn: boolean;
  /** A certificate was presented and the handshake succeeded (verified, or its errors ignored). */
  readonly certUsed: boolean;
  readonly outcome: VerifyOutcome;
  readonly verify: VerifyResult | null;
  /** Set when explain mode kept a rejected connection open to explain the rejection. */
  readonly rejected: boolean;
  /** The certificate's details: filled by settleConnectionCert (at the first request). */
  cert: CertSummary | null;
  mappedUser: string | null;
  certInfo: CertInfo | null;
  sessionId: Buffer | null;
  /** The presented certificate until its details are derived; then null. */
  pending: { readonly peer: PeerCertificate; readonly lookup: (peer: PeerCertificate) => CertInfo } | null;
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

export interface NewConnection {
  readonly profile: TlsProfile;
  readonly sni: string | null;
  readonly clientAddress: string;
  readonly clientPort: number | undefined;
  readonly outcome: VerifyOutcome;
  readonly peer: PeerCertificate | null;
  /** Derives (or finds cached) the certificate's details under this connection's configuration. */
  readonly lookup: (peer: PeerCertificate) => CertInfo;
  readonly rejected: boolean;
}

export function newConnectionState(c: NewConnection): ConnectionState {
  const { outcome } = c;
  const verify: VerifyResult | null = outcome.kind === 'cert' ? { code: outcome.code, name: outcome.info.name, hint: outcome.info.hint } : null;
  const state: ConnectionState = {
    tlsConfig: c.profile.resolved.name,
    sni: c.sni,
    clientAddress: c.clientAddress,
    clientPort: c.clientPort,
    clientAuthOn: c.profile.resolved.clientAuth !== 'disabled',
    certUsed: outcome.kind === 'cert' && outcome.accepted,
    outcome,
    verify,
    rejected: c.rejected,
    cert: null,
    mappedUser: null,
    certInfo: null,
    sessionId: null,
    pending: c.peer ? { peer: c.peer, lookup: c.lookup } : null,
    h10Values: undefined,
  };
  // A refused certificate was read at the handshake already; nothing is saved by waiting.
  if (c.rejected) settleConnectionCert(state);
  return state;
}

/** Derives the certificate's details once; every request calls it, only the first does work. */
export function settleConnectionCert(state: ConnectionState): void {
  const pending = state.pending;
  if (pending === null) return;
  state.pending = null;
  const info = pending.lookup(pending.peer);
  state.certInfo = info;
  state.cert = info.summary;
  state.mappedUser = state.outcome.accepted ? info.mappedUser : null;
  state.sessionId = pending.peer.sessionId;
}

function upperHex(bytes: Buffer | null): string {
  return bytes ? bytes.toString('hex').toUpperCase() : '';
}

/** The connection's ten values (null when no certificate was used), computed on first use. */
export function connectionH10Values(state: ConnectionState, socket: TLSSocket): readonly HeaderPair[] | null {
  if (state.h10Values !== undefined) return state.h10Values;
  settleConnectionCert(state);
  if (!state.certUsed || !state.certInfo || state.outcome.kind !== 'cert') {
    state.h10Values = null;
    state.sessionId = null;
    return null;
  }
  // The ID is in the session read above for a verified certificate; a certificate read at the
  // handshake (ignored errors) under TLS 1.3 had none yet, so the session is asked again.
  state.h10Values = state.certInfo.headerValues(state.outcome.code, upperHex(state.sessionId ?? sessionIdFromSessionDer(socket.getSession())));
  // The hex value is in the headers now; the small Buffer would keep an 8 KB pool slab alive per
  // idle connection.
  state.sessionId = null;
  return state.h10Values;
}
