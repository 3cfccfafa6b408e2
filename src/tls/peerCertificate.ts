// The client certificate of one connection, read the cheap way. The TLS session (getSession())
// already carries the verified leaf in DER, and the edge needs the session anyway for its ID;
// asking the socket for an X509Certificate costs about 0.25 ms per connection because Node also
// links the issuer chain. So the DER comes from the session, and the X509Certificate (with its
// chain) is fetched only when needed: a certificate not seen before, or a verification error.
import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { sessionFacts } from '../headers/sessionId.js';

export class PeerCertificate {
  private linked: X509Certificate | undefined;

  private constructor(
    private readonly socket: TLSSocket,
    /** DER of the leaf the client presented. */
    readonly der: Buffer,
    /** The TLS session ID when the session already has one (TLS 1.2); TLS 1.3 assigns it later. */
    readonly sessionId: Buffer | null,
    linked?: X509Certificate,
  ) {
    this.linked = linked;
  }

  /**
   * The leaf with Node's issuer links (`issuerCertificate`), fetched once: Node 20 links the chain
   * only on a socket's first getPeerX509Certificate() call (a later call returns the leaf alone),
   * so nothing else may ask the socket first.
   */
  x509(): X509Certificate {
    this.linked ??= this.socket.getPeerX509Certificate()!;
    return this.linked;
  }

  /** Null when the client presented no certificate. */
  static of(socket: TLSSocket): PeerCertificate | null {
    const facts = sessionFacts(socket.getSession());
    if (facts.peerCertificateDer) return new PeerCertificate(socket, facts.peerCertificateDer, facts.sessionId);
    // A session without the peer (not seen with OpenSSL 3, kept as a fallback): ask the socket.
    const x509 = socket.getPeerX509Certificate();
    return x509 ? new PeerCertificate(socket, x509.raw, facts.sessionId, x509) : null;
  }
}
