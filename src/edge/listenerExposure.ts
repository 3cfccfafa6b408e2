// What a non-loopback bind exposes. The plain-HTTP listener forwards every client-certificate
// header a client sends (HAProxy's http frontend does the same: always_forward_only), so an app
// that trusts those headers, on a port other machines reach, can be told any identity by any of
// them. On Cloud Foundry the platform network decides who reaches that port; on a laptop the
// bind does, so the edge says so at start.
import { isLoopbackBind } from '../observe/adminAccess.js';

export function exposureWarning(bind: string, httpPort: number | null): string | null {
  if (httpPort === null || isLoopbackBind(bind)) return null;
  return (
    `the plain-HTTP listener on ${bind}:${httpPort} is reachable from other machines and forwards the client-certificate ` +
    'headers any client sends (as HAProxy\'s http frontend does): an app that trusts them can be told any identity. ' +
    'Bind 127.0.0.1 (bind:, --bind) or turn the plain listener off (http_port: false, --http-port -1) unless that is what you test.'
  );
}
