// The client certificate of one connection, read the cheap way. The TLS session (getSession())
// already carries the verified leaf in DER, and the edge needs the session anyway for its ID;
// asking the socket for an X509Certificate costs about 0.25 ms per connection because Node also
// links the issuer chain. So the DER comes from the session, and the X509Certificate (with its
// chain) is fetched only when needed: a certificate not seen before, or a verification error.
//
// A certificate the handshake verified is not read at the handshake at all: the session is read
// once, at the connection's first request, where it also carries the TLS 1.3 session ID (which
// does not exist yet when the handshake completes). One getSession() per connection instead of two.
import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { sessionFacts, type SessionFacts } from '../headers/sessionId.js';

/**
 * Node links every certificate a client sent when the chain is first read (about 0.17 ms each: 25 ms
 * for 150 small ones, more than ten handshakes), and a refused client can send the same 100 KB
 * again and again. When the client had sent more than this by the end of its handshake, the chain
 * is left unread wherever it cannot change the verdict (verifyOutcome.ts): real chains are a few KB.
 * The count is the TCP socket's (public) bytesRead, so it includes any request bytes that arrived
 * with the handshake's last flight: such a client's rejection event then shows only its leaf, and
 * so does its explain-mode page (certInfoCache.ts: the page would otherwise link the chain once per
 * new leaf a hostile client mints).
 */
export const CHAIN_READ_MAX_BYTES = 32 * 1024;

export class PeerCertificate {
  private linked: X509Certificate | undefined;
  private facts: SessionFacts | undefined;

  private constructor(
    private readonly socket: TLSSocket,
    facts?: SessionFacts,
    linked?: X509Certificate,
    /** What the client sent until its handshake completed (its certificates among it), in bytes. */
    readonly handshakeBytes = 0,
  ) {
    this.facts = facts;
    this.linked = linked;
  }

  /** False when the client sent more than CHAIN_READ_MAX_BYTES in its handshake: see there. */
  get chainCheap(): boolean {
    return this.linked !== undefined || this.handshakeBytes <= CHAIN_READ_MAX_BYTES;
  }

  private session(): SessionFacts {
    if (this.facts === undefined) {
      const facts = sessionFacts(this.socket.getSession());
      // A session without the peer (not seen with OpenSSL 3, kept as a fallback): ask the socket.
      this.facts = facts.peerCertificateDer ? facts : { sessionId: facts.sessionId, peerCertificateDer: this.x509().raw };
    }
    return this.facts;
  }

  /** DER of the leaf the client presented. */
  get der(): Buffer {
    const der = this.session().peerCertificateDer;
    if (!der) throw new Error('the client certificate of this connection is no longer available from the TLS session');
    return der;
  }

  /** The TLS session ID when the session has one at the time of the first read; null otherwise. */
  get sessionId(): Buffer | null {
    return this.session().sessionId;
  }

  /**
   * The leaf with Node's issuer links (`issuerCertificate`), fetched once: Node 20 links the chain
   * only on a socket's first getPeerX509Certificate() call (a later call returns the leaf alone),
   * so nothing else may ask the socket first.
   */
  x509(): X509Certificate {
    if (this.linked === undefined) {
      const linked = this.socket.getPeerX509Certificate();
      // Only a second handshake could take the certificate away, and renegotiation is refused; a
      // throw here ends this connection at its fault boundary rather than reading `undefined`.
      if (linked === undefined) throw new Error('the client certificate of this connection is no longer available from the TLS session');
      this.linked = linked;
    }
    return this.linked;
  }

  /**
   * A certificate the handshake presented and verified (Node reports no verify error with client
   * authentication on): nothing is read until der or sessionId is first asked for.
   */
  static verified(socket: TLSSocket): PeerCertificate {
    return new PeerCertificate(socket);
  }

  /**
   * Reads the session now; null when the client presented no certificate.
   * @param handshakeBytes the bytes the client sent until the handshake completed (its TCP socket's bytesRead).
   */
  static of(socket: TLSSocket, handshakeBytes = 0): PeerCertificate | null {
    const facts = sessionFacts(socket.getSession());
    if (facts.peerCertificateDer) return new PeerCertificate(socket, facts, undefined, handshakeBytes);
    const x509 = socket.getPeerX509Certificate();
    return x509 ? new PeerCertificate(socket, { sessionId: facts.sessionId, peerCertificateDer: x509.raw }, x509, handshakeBytes) : null;
  }
}
