// The live flow page served by the admin listener: an HTML document, its script and its style sheet
// (src/observe/page/, served from memory; no external assets, works offline) that follow /events and
// show every request and every rejected handshake as it happens. Trainers project it, so it favours
// large type and contrast.
//
// Safety: all data reaches the DOM through textContent, never innerHTML, and the admin server sends
// a Content-Security-Policy that admits only the listener's own script and style files, so even a
// forged certificate name cannot run code here.
import { VERIFY_CODES } from '../pki/verifyCodes.js';
import { escapeHtml } from './html.js';
import { MODE_TABLE } from '../headers/modeTable.js';
import { fillTemplate, jsonInHtml, PAGE_HTML } from './pageAssets.js';

/** CSP that admits only the listener's own files: injected markup cannot run or restyle the page. */
export const FLOW_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function renderFlowPage(opts: { ringSize: number; title?: string; lessonToken: string }): string {
  // Verify code -> OpenSSL name for the decoded X-SSL-Client-Verify column. A JSON data block is
  // not executed, so the CSP does not need to admit it.
  const codes = Object.fromEntries(VERIFY_CODES.map((r) => [r.code, r.name]));
  return fillTemplate(PAGE_HTML, {
    title: escapeHtml(opts.title ?? 'mtls-edge'),
    ringSize: String(opts.ringSize),
    verifyCodes: jsonInHtml(codes),
    // The edge lane names the row of the forwarded_client_cert table that decided each header.
    modeTable: jsonInHtml(MODE_TABLE),
    lessonToken: escapeHtml(opts.lessonToken),
  });
}
