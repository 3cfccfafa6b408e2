// What the edge knows about one client connection. The ten header values belong to the TLS session:
// nine come from the certificate (computed once per certificate and verify code, in CertInfo) and
// the session ID is read once, at the first request (the TLS 1.3 session ID only exists by then).
// Only the session ID's text is kept per connection; the ten-value list is assembled per request
// (a copy of ten references), because a kept list would cost about 200 bytes per idle connection.
// The client certificate's details are derived at that first request too: the TLS session is read
// once, for the leaf and the session ID together.
import type { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { sessionIdFromSessionDer } from '../headers/sessionId.js';
import type { CertSummary, HeaderPair, VerifyResult } from '../observe/events.js';
import type { VerifyOutcome } from '../tls/verifyOutcome.js';
import type { TlsProfile } from '../tls/tlsProfiles.js';
import type { PeerCertificate } from '../tls/peerCertificate.js';
import type { CertInfo } from './certInfoCache.js';
import type { DialectWriter } from '../headers/dialects/dialects.js';

export interface ConnectionState {
  /** The TLS configuration the handshake used, kept as it was (a reload swaps the set, not this). */
  readonly profile: TlsProfile;
  readonly tlsConfig: string;
  readonly sni: string | null;
  /** Read once from the TCP socket at accept. */
  readonly clientAddress: string;
  readonly clientPort: number | undefined;
  readonly clientAuthOn: boolean;
  /** The TLS configuration's header dialect; null for cf (the ten headers and the mode table). */
  readonly dialect: DialectWriter | null;
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
  /** The session ID as upper-case hex once read; null when no certificate was used. */
  sessionIdHex: string | null | undefined;
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
  readonly dialect: DialectWriter | null;
  readonly sni: string | null;
  readonly clientAddress: string;
  readonly clientPort: number | undefined;
  readonly outcome: VerifyOutcome;
  readonly peer: PeerCertificate | null;
  /** Derives (or finds cached) the certificate's details under this connection's configuration. */
  readonly lookup: (peer: PeerCertificate) => CertInfo;
  readonly rejected: boolean;
}

// One shared result per verify code (a few dozen exist) instead of one object per connection.
const verifyResults = new Map<number, VerifyResult>();
function verifyResult(code: number, name: string, hint: string): VerifyResult {
  const known = verifyResults.get(code);
  if (known !== undefined && known.name === name && known.hint === hint) return known;
  const made: VerifyResult = Object.freeze({ code, name, hint });
  if (verifyResults.size < 256) verifyResults.set(code, made);
  return made;
}

export function newConnectionState(c: NewConnection): ConnectionState {
  const { outcome } = c;
  const verify = outcome.kind === 'cert' ? verifyResult(outcome.code, outcome.info.name, outcome.info.hint) : null;
  const state: ConnectionState = {
    profile: c.profile,
    tlsConfig: c.profile.resolved.name,
    sni: c.sni,
    clientAddress: c.clientAddress,
    clientPort: c.clientPort,
    clientAuthOn: c.profile.resolved.clientAuth !== 'disabled',
    dialect: c.dialect,
    certUsed: outcome.kind === 'cert' && outcome.accepted,
    outcome,
    verify,
    rejected: c.rejected,
    cert: null,
    mappedUser: null,
    certInfo: null,
    sessionId: null,
    pending: c.peer ? { peer: c.peer, lookup: c.lookup } : null,
    sessionIdHex: undefined,
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

/** The connection's ten values (null when no certificate was used). */
export function connectionH10Values(state: ConnectionState, socket: TLSSocket): readonly HeaderPair[] | null {
  if (state.sessionIdHex === undefined) {
    settleConnectionCert(state);
    if (!state.certUsed || !state.certInfo || state.outcome.kind !== 'cert') state.sessionIdHex = null;
    // The ID is in the session read above for a verified certificate; a certificate read at the
    // handshake (ignored errors) under TLS 1.3 had none yet, so the session is asked again.
    else state.sessionIdHex = upperHex(state.sessionId ?? sessionIdFromSessionDer(socket.getSession()));
    // The hex text is kept; the small Buffer would keep an 8 KB pool slab alive per idle connection.
    state.sessionId = null;
  }
  if (state.sessionIdHex === null || !state.certInfo || state.outcome.kind !== 'cert') return null;
  return state.certInfo.headerValues(state.outcome.code, state.sessionIdHex);
}

/** The dialect's headers for this connection's certificate (null when no certificate was used). */
export function connectionDialectValues(state: ConnectionState, dialect: DialectWriter): readonly HeaderPair[] | null {
  settleConnectionCert(state);
  if (!state.certUsed || !state.certInfo || state.outcome.kind !== 'cert') return null;
  return state.certInfo.dialectValues(dialect, state.outcome.code);
}
