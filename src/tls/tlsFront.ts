// The HTTPS port's connection handler: takes each accepted TCP connection, reads the ClientHello's
// SNI, picks the TLS configuration, and only then creates the TLS socket with that configuration's
// client-auth mode. This is how per-hostname modes (no certificate request for one name, required
// for another) are possible in Node, where requestCert belongs to the socket rather than to an
// SNI-selected SecureContext. Node internals it needs are in nodeTlsInternals.ts, and only there.
import type net from 'node:net';
import tls from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { ClientHelloReader, peekClientHello, rawAlertRecord, type ClientHelloPeek } from './clientHello.js';
import { selectProfile, type TlsProfile, type TlsProfileSet } from './tlsProfiles.js';
import { verifyOutcome, type VerifyOutcome } from './verifyOutcome.js';
import { PeerCertificate } from './peerCertificate.js';
import { handshakeVerifyError, offHandshakeError, onHandshakeError, releaseHandshakeErrors, servernameOfFailedHandshake, type HandshakeError } from './nodeTlsInternals.js';
import type { FaultStage } from '../observe/events.js';

export interface AcceptedTls {
  readonly socket: TLSSocket;
  /** Read once from the TCP socket: asking the TLS socket again would cost a second getpeername(). */
  readonly clientAddress: string;
  readonly clientPort: number | undefined;
  readonly profile: TlsProfile;
  readonly sni: string | null;
  readonly outcome: VerifyOutcome;
  /** Null when no certificate was presented (or client auth is disabled). */
  readonly peer: PeerCertificate | null;
}

export interface TlsRejection {
  readonly clientAddress: string;
  readonly clientPort: number | undefined;
  readonly sni: string | null;
  readonly profile: TlsProfile | null;
  /** Null when the connection failed before a verification outcome existed. */
  readonly outcome: VerifyOutcome | null;
  readonly peer: PeerCertificate | null;
  /** A TLS-level reason when there is no verification outcome (garbage, unknown SNI, alert from OpenSSL). */
  readonly reason: string | null;
  readonly alert: string | null;
}

export interface TlsFrontOptions {
  /** Read on every connection, so a reload swaps configurations without touching live sockets. */
  readonly profiles: () => TlsProfileSet;
  readonly handshakeTimeoutMs: number;
  /** A connection whose certificate passed (or whose rejection explain mode wants to answer). */
  readonly onAccepted: (accepted: AcceptedTls) => void;
  readonly onRejected: (rejection: TlsRejection) => void;
  /** When true, a rejected certificate still completes the handshake and goes to onAccepted. */
  readonly explainRejections: () => boolean;
  /**
   * A fault (an exception) while handling one connection's ClientHello or handshake, including in
   * onAccepted/onRejected: the front has already destroyed that connection.
   */
  readonly onFault: (stage: FaultStage, clientAddress: string, err: unknown) => void;
}

let lastAddress = 'unknown';
/**
 * Node returns a new string for every remoteAddress; the same client's address is kept once
 * instead of once per idle connection (1,000 connections from 127.0.0.1 are 32 KB of copies).
 */
function remote(s: net.Socket): string {
  const address = s.remoteAddress ?? 'unknown';
  if (address !== lastAddress) lastAddress = address;
  return lastAddress;
}

/**
 * The error listener of every socket. A module function rather than a closure: a closure would
 * keep the handshake's whole scope (its listeners, the options, the peeked bytes) alive for as
 * long as the connection stays open.
 */
function destroyOnError(this: net.Socket): void {
  this.destroy();
}

/** Once the HTTP server took the socket, its own error listener (which also destroys) is enough. */
function dropOwnErrorListener(socket: TLSSocket): void {
  if (socket.listenerCount('error') > 1) socket.removeListener('error', destroyOnError);
}

/** Gives a completed handshake's connection to the HTTP side. */
function handOver(opts: TlsFrontOptions, accepted: AcceptedTls): void {
  // From here a client's FIN (or close_notify) after its request half-closes the connection: the
  // answer is still sent, then the connection ends (edge-behaviour §10.9). Before the handshake
  // completed a FIN closed it (raw.allowHalfOpen in acceptRaw); `allowHalfOpen` is Duplex's
  // documented switch, changeable until 'end'.
  accepted.socket.allowHalfOpen = true;
  opts.onAccepted(accepted);
  dropOwnErrorListener(accepted.socket);
}

/** Runs one step of a connection's handshake; a throw ends that connection only and is reported. */
function contained(opts: TlsFrontOptions, stage: FaultStage, clientAddress: string, sockets: readonly net.Socket[], step: () => void): void {
  try {
    step();
  } catch (err) {
    for (const s of sockets) s.destroy();
    opts.onFault(stage, clientAddress, err);
  }
}

/**
 * While fewer connections than this are waiting for their handshake, a new connection gets its TLS
 * socket at accept; above it (a connect flood), only once the client sends its first bytes. See
 * acceptRaw for why each way.
 */
export const EAGER_TLS_LIMIT = 64;

/** Connections accepted whose handshake has not finished (nor the connection closed). */
interface Pending {
  count: number;
}

/** The handler for the TCP connections the HTTPS listener accepts (its 'connection' listener). */
export function createTlsFront(opts: TlsFrontOptions): (raw: net.Socket) => void {
  const pending: Pending = { count: 0 };
  return (raw) => {
    try {
      acceptRaw(raw, opts, pending);
    } catch (err) {
      raw.destroy();
      opts.onFault('accept', raw.remoteAddress ?? 'unknown', err);
    }
  };
}

/**
 * With one TLS configuration and strict SNI off, the SNI cannot change anything before the
 * handshake, so the TLS socket takes the TCP stream at the client's first bytes instead of after a
 * parsed ClientHello: parsing it in JavaScript first costs about 0.15 ms of CPU and 3.5 KB of memory
 * per connection (docs/performance.md). The SNI is then read from the finished handshake.
 */
export function needsSniPeek(set: TlsProfileSet): boolean {
  return set.strictSni || set.profiles.length !== 1;
}

function acceptRaw(raw: net.Socket, opts: TlsFrontOptions, pending: Pending): void {
  if (raw.destroyed) return; // closed at accept by a connection cap (edge/connectionLimits.ts)
  // The listener is an http.Server, whose sockets are half-open; a client's FIN before or during
  // the handshake must close the connection (the TLS socket inherits this setting).
  raw.allowHalfOpen = false;
  const eagerTls = pending.count < EAGER_TLS_LIMIT;
  pending.count++;
  let counted = true;
  const handshakeOver = (): void => {
    if (!counted) return;
    counted = false;
    pending.count--;
    raw.removeListener('close', handshakeOver);
  };
  raw.on('close', handshakeOver);
  const clientAddress = remote(raw);
  const clientPort = raw.remotePort;
  const set = opts.profiles();
  const fail = (reason: string, alert: string | null, sendAlert?: number): void => {
    // A refused connection must not keep its timer (and this closure) alive for the handshake timeout.
    clearTimeout(handshakeTimer);
    opts.onRejected({ clientAddress, clientPort, sni: null, profile: null, outcome: null, peer: null, reason, alert });
    if (sendAlert !== undefined) raw.end(rawAlertRecord(sendAlert));
    else raw.destroy();
  };
  // A deadline for the whole handshake, with or without the peek; startTls clears it once the
  // handshake completes. A plain timer rather than raw.setTimeout: that one is an idle timeout (a
  // client dripping one byte at a time would keep it from firing) and Node keeps its cleared timer
  // object on the socket for the connection's life.
  const handshakeTimer = setTimeout(() => {
    contained(opts, 'handshake', clientAddress, [raw], () => {
      if (!raw.destroyed) fail('TLS handshake not completed within the handshake timeout (timeouts.request_headers)', null);
    });
  }, opts.handshakeTimeoutMs);
  handshakeTimer.unref();
  raw.on('error', destroyOnError);
  if (!needsSniPeek(set) && eagerTls) {
    // OpenSSL reads the ClientHello straight from the TCP handle, with no JavaScript in between:
    // about 3 % less CPU per handshake than waiting for the first bytes (bench/paired.ts).
    startTls(raw, set.profiles[0]!, undefined, { clientAddress, clientPort }, opts, handshakeTimer, handshakeOver);
    return;
  }
  if (!needsSniPeek(set)) {
    // Under a connect flood the TLS socket (and OpenSSL's SSL object) is made once the client has
    // sent its first bytes: a connection that never sends anything then holds only the TCP socket,
    // and one whose first byte cannot start a TLS handshake record is refused as the SNI peek
    // refuses it, without OpenSSL. This keeps glibc's heap from being left fragmented by
    // short-lived SSL objects (docs/robustness.md, "Floods and resource limits").
    const onFirstBytes = (chunk: Buffer): void =>
      contained(opts, 'client-hello', clientAddress, [raw], () => {
        raw.removeListener('data', onFirstBytes);
        raw.pause();
        if (chunk[0] !== 0x16) {
          const peek = peekClientHello(chunk);
          fail(peek.state === 'invalid' ? peek.reason : 'not a TLS handshake', null);
          return;
        }
        raw.unshift(chunk);
        startTls(raw, set.profiles[0]!, undefined, { clientAddress, clientPort }, opts, handshakeTimer, handshakeOver);
      });
    raw.on('data', onFirstBytes);
    return;
  }
  const onData = (chunk: Buffer): void => contained(opts, 'client-hello', clientAddress, [raw], () => peekStep(chunk));
  // The bytes read so far, handed back to the TLS socket once the hello is read; the reader keeps its own state.
  let received: Buffer[] = [];
  const reader = new ClientHelloReader();
  const peekStep = (chunk: Buffer): void => {
    received.push(chunk);
    let peek: ClientHelloPeek;
    try {
      peek = reader.push(chunk);
    } catch {
      // The parser checks every length it reads; should one slip through, the bytes came from the
      // network, so the connection is refused rather than the process taken down.
      peek = { state: 'invalid', reason: 'malformed ClientHello' };
    }
    if (peek.state === 'incomplete') return;
    raw.removeListener('data', onData);
    raw.pause();
    if (peek.state === 'invalid') {
      fail(peek.reason, null);
      return;
    }
    const profile = selectProfile(set, peek.sni);
    if (!profile) {
      opts.onRejected({
        clientAddress, clientPort, sni: peek.sni, profile: null, outcome: null, peer: null,
        reason: peek.sni ? `no TLS configuration matches SNI "${peek.sni}" and strict SNI is on` : 'no SNI sent and strict SNI is on',
        alert: 'unrecognized_name',
      });
      clearTimeout(handshakeTimer);
      raw.end(rawAlertRecord(112));
      return;
    }
    raw.unshift(received.length === 1 ? received[0]! : Buffer.concat(received));
    received = [];
    startTls(raw, profile, peek.sni, { clientAddress, clientPort }, opts, handshakeTimer, handshakeOver);
  };
  raw.on('data', onData);
}

/** OpenSSL's reasons for a first record that is not TLS, in the words the SNI peek uses. */
function handshakeFailureReason(code: string): string {
  if (/HTTP_REQUEST/.test(code)) return 'plain HTTP sent to the HTTPS port: use https://';
  if (/WRONG_VERSION_NUMBER|UNKNOWN_PROTOCOL|PACKET_LENGTH_TOO_LONG|RECORD_LENGTH_MISMATCH/.test(code)) return `not a TLS handshake (${code})`;
  return `TLS handshake failed: ${code}`;
}

/** The SNI of a completed handshake: Node's documented `servername` of a secure server socket. */
function completedHandshakeServername(socket: TLSSocket): string | null {
  const name = socket.servername;
  return typeof name === 'string' && name !== '' ? name : null;
}

/** @param peekedSni the SNI read by the peek; undefined when no peek ran (read it from the handshake). */
function startTls(raw: net.Socket, profile: TlsProfile, peekedSni: string | null | undefined, client: { readonly clientAddress: string; readonly clientPort: number | undefined }, opts: TlsFrontOptions, handshakeTimer: NodeJS.Timeout, handshakeOver: () => void): void {
  const { clientAddress, clientPort } = client;
  const { clientAuth } = profile.resolved;
  const socket = new tls.TLSSocket(raw, {
    isServer: true,
    secureContext: profile.secureContext,
    requestCert: clientAuth !== 'disabled',
    // Only effect on a socket we manage ourselves: OpenSSL fails a certificate-less handshake with
    // the certificate_required alert, as HAProxy's `verify required` does. Verification errors are
    // still decided below (Node's verify callback accepts every certificate). In explain mode the
    // handshake completes without a certificate too, so the client can be told why (496).
    rejectUnauthorized: clientAuth === 'required' && !opts.explainRejections(),
    ALPNProtocols: profile.alpnWire,
  });
  // The TLS socket now listens for the TCP socket's errors itself (and destroys both); a second
  // listener would turn the event's listener into an array kept per idle connection.
  raw.removeListener('error', destroyOnError);
  // Renegotiation is refused by OpenSSL (SSL_OP_NO_RENEGOTIATION in every profile's context: a
  // no_renegotiation alert, as HAProxy sends). Node's disableRenegotiation() is not added on top: it
  // ends the connection before that alert reaches the client, which HAProxy does not do.
  let settled = false;
  const onTlsError = (err: HandshakeError): void => contained(opts, 'handshake', clientAddress, [socket, raw], () => tlsErrorStep(err));
  const tlsErrorStep = (err: HandshakeError): void => {
    if (settled) return;
    settled = true;
    clearTimeout(handshakeTimer);
    // A client that connected and closed or reset without sending a byte attempted no handshake:
    // nothing to report, as on the first-bytes and peek paths, which never start TLS for it.
    if (raw.bytesRead === 0) {
      socket.destroy();
      return;
    }
    const sni = peekedSni !== undefined ? peekedSni : servernameOfFailedHandshake(socket);
    const noCert = /PEER_DID_NOT_RETURN_A_CERTIFICATE|CERTIFICATE_REQUIRED/i.test(`${err.code ?? ''} ${err.message}`);
    opts.onRejected({
      clientAddress, clientPort, sni, profile, outcome: noCert ? { kind: 'no-cert', accepted: false } : null, peer: null,
      reason: noCert ? 'no client certificate sent' : handshakeFailureReason(err.code ?? err.message),
      alert: noCert ? 'certificate_required' : null,
    });
    socket.destroy();
  };
  const onSecure = (): void => contained(opts, 'handshake', clientAddress, [socket, raw], secureStep);
  const secureStep = (): void => {
    if (settled) return;
    settled = true;
    // The handshake's listeners and their closures would otherwise live as long as the connection
    // (≈1 KB each of ~1,000 idle connections, docs/performance.md).
    clearTimeout(handshakeTimer);
    handshakeOver();
    offHandshakeError(socket, onTlsError);
    socket.removeListener('secure', onSecure);
    // A later TLS error (a bad record, an alert) then closes the connection, as HAProxy does.
    releaseHandshakeErrors(socket);
    const sni = peekedSni !== undefined ? peekedSni : completedHandshakeServername(socket);
    let peer: PeerCertificate | null = null;
    let verifyError: string | null = null;
    if (clientAuth !== 'disabled') {
      verifyError = handshakeVerifyError(socket);
      // With client authentication on, Node reports no verify error only for a certificate that was
      // presented and verified (no certificate reads as UNABLE_TO_GET_ISSUER_CERT; sessions are
      // never resumed here: no tickets, no session cache). Such a certificate is read later, once.
      peer = verifyError === null ? PeerCertificate.verified(socket) : PeerCertificate.of(socket, raw.bytesRead);
    }
    const outcome = verifyOutcome(peer ? verifyError : null, peer, profile.resolved);
    if (outcome.accepted) {
      handOver(opts, { socket, clientAddress, clientPort, profile, sni, outcome, peer });
      return;
    }
    // In explain mode the connection goes on to the 495/496 page: no alert is sent.
    const explained = opts.explainRejections();
    opts.onRejected({
      clientAddress, clientPort, sni, profile, outcome, peer, reason: null,
      alert: explained ? null : outcome.kind === 'cert' ? (outcome.info.alert?.name ?? null) : 'certificate_required',
    });
    if (explained) handOver(opts, { socket, clientAddress, clientPort, profile, sni, outcome, peer });
    else socket.destroy();
  };
  onHandshakeError(socket, onTlsError);
  socket.on('secure', onSecure);
  socket.on('error', destroyOnError);
}
