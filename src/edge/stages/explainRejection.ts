// Explain mode: a connection whose certificate was refused was kept open only to say why. The
// upstream is never called.
import type { Stage } from '../requestContext.js';
import { renderExplanation } from '../../observe/explainPage.js';
import { NO_CERTIFICATE } from '../../pki/verifyCodes.js';

export function explainRejection(): Stage {
  return (ctx) => {
    const conn = ctx.conn;
    if (!conn || !conn.rejected) return true;
    const verify = conn.verify;
    const page = renderExplanation(
      {
        verify,
        cert: conn.cert,
        sni: conn.sni,
        reason: verify ? `${verify.code} ${verify.name}` : 'no client certificate sent',
        hint: verify ? verify.hint : NO_CERTIFICATE.hint,
      },
      ctx.req.headers.accept,
    );
    // Node knows no reason phrase for nginx's 495/496; without one the status line says "unknown".
    ctx.res.writeHead(page.status, page.status === 496 ? 'SSL Certificate Required' : 'SSL Certificate Error', ['content-type', page.contentType, 'cache-control', 'no-cache', 'content-length', String(Buffer.byteLength(page.body))]);
    ctx.res.end(page.body);
    ctx.answeredWith = { status: page.status, error: 'certificate rejected (explained)' };
    return false;
  };
}
