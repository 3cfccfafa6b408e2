// The explanation a client gets in `--explain-rejections` mode instead of a silently closed
// connection, in the spirit of nginx's 495/496 pages but with the fix spelled out: what was
// presented, what OpenSSL said, and the troubleshooting checklist of seed 003 with the item that
// applies marked. HTML for browsers, JSON for tools, plain text when asked for (`Accept: text/plain`).
import type { CertSummary, VerifyResult } from './events.js';
import { NO_CERTIFICATE, verifyCodeInfo } from '../pki/verifyCodes.js';
import { escapeHtml } from './html.js';
import { escapeText, safeJson } from './escape.js';
import { negotiate } from './accept.js';
import { scrubText } from './redact.js';

export interface ExplainInput {
  readonly verify: VerifyResult | null;
  readonly cert: CertSummary | null;
  readonly sni: string | null;
  readonly reason: string;
  readonly hint: string;
}

export interface ExplainResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** The checklist of seed 003 ("Analyze Problems"), one entry per cause, with the codes it explains. */
export interface ChecklistItem {
  readonly id: string;
  readonly text: string;
  readonly codes: readonly (number | 'none')[];
}

export const CHECKLIST: readonly ChecklistItem[] = [
  { id: 'sent', codes: ['none'], text: 'Is the client certificate sent at all? Check the client: curl --cert/--key, the certificate settings in Postman, the keystore in SoapUI or STRUST.' },
  { id: 'self-signed', codes: [18], text: 'Is the certificate signed by a CA? Self-signed certificates are refused.' },
  { id: 'trusted-ca', codes: [19, 20, 21, 2], text: 'Is the root of the CA that signed it in the trust list of this host?' },
  { id: 'chain', codes: [20, 21, 2, 79, 7], text: 'Does the client send the whole chain (leaf and intermediates)? The trust list holds only root CAs.' },
  { id: 'validity', codes: [9, 10], text: 'Is the certificate valid now (not expired, not before its start date)? Check the clocks too.' },
  { id: 'purpose', codes: [26], text: 'Does the certificate allow client authentication (extended key usage clientAuth)?' },
  { id: 'revoked', codes: [23, 3], text: 'Is the certificate revoked, or does a CA of the chain lack a CRL while CRL checking is on?' },
  { id: 'strength', codes: [66, 67, 68], text: 'Are its keys and signatures strong enough for OpenSSL security level 2 (RSA of at least 2048 bits, no SHA-1 or MD5 signatures) in the certificate and each CA above it?' },
  { id: 'custom-domain', codes: [19, 20, 21, 'none'], text: 'Custom domain: are the trusted CAs uploaded to the TLS configuration of this host, and is client authentication enabled there?' },
];

type Kind = 'certificate-error' | 'no-certificate';

interface Explanation {
  kind: Kind;
  status: 495 | 496;
  title: string;
  reason: string;
  hint: string;
  verify: { code: number; name: string; text: string; alert: string | null } | null;
  cert: CertSummary | null;
  sni: string | null;
  checklist: { id: string; text: string; applies: boolean }[];
}

function explain(input: ExplainInput): Explanation {
  const noCert = input.cert === null && input.verify === null;
  const info = input.verify ? verifyCodeInfo(input.verify.code) : null;
  const key: number | 'none' = input.verify ? input.verify.code : noCert ? 'none' : -1;
  return {
    kind: noCert ? 'no-certificate' : 'certificate-error',
    status: noCert ? 496 : 495,
    title: noCert ? 'SSL Certificate Required' : 'SSL Certificate Error',
    reason: scrubText(input.reason),
    hint: scrubText(input.hint || input.verify?.hint || (noCert ? NO_CERTIFICATE.hint : info?.hint ?? '')),
    verify:
      input.verify && info
        ? { code: input.verify.code, name: input.verify.name || info.name, text: info.text, alert: info.alert?.name ?? null }
        : null,
    cert: input.cert,
    sni: input.sni,
    checklist: CHECKLIST.map((c) => ({ id: c.id, text: c.text, applies: c.codes.includes(key) })),
  };
}

const CSS = `
:root{color-scheme:light dark;--bg:#f6f7f9;--fg:#1b1f24;--muted:#5b6573;--card:#fff;--line:#d9dee5;--bad:#c62828;--badbg:#fdecea;--hl:#fff4d6}
@media (prefers-color-scheme:dark){:root{--bg:#15181d;--fg:#e8ebef;--muted:#9aa4b1;--card:#1e232a;--line:#323a45;--bad:#ff6b6b;--badbg:#3a1d1d;--hl:#3a3320}}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:860px;margin:40px auto;padding:0 20px}h1{font-size:28px;margin:0 0 8px}h1 .code{color:var(--bad)}
h2{font-size:18px;margin:28px 0 8px}.lead{font-size:18px;margin:0 0 16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 20px}
.fix{border-left:5px solid var(--bad);background:var(--badbg)}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:6px 10px;border-bottom:1px solid var(--line)}
th{width:210px;color:var(--muted);font-weight:600}td{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:14px;word-break:break-all}
ul{padding-left:0;list-style:none;margin:0}li{padding:8px 12px;border-radius:8px;margin:4px 0}
li.applies{background:var(--hl);font-weight:600}li.applies::before{content:"\\2192  "}
footer{margin-top:28px;color:var(--muted);font-size:14px}`;

function row(label: string, value: string | null | undefined): string {
  return value === null || value === undefined || value === '' ? '' : `<tr><th>${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`;
}

function renderHtml(x: Explanation): string {
  const verifyRows = x.verify
    ? row('OpenSSL verify result', `${x.verify.name} (${x.verify.code}): ${x.verify.text}`) +
      row('TLS alert a real edge sends', x.verify.alert)
    : row('OpenSSL verify result', x.kind === 'no-certificate' ? `${NO_CERTIFICATE.name}: no client certificate was presented` : null) +
      row('TLS alert a real edge sends', x.kind === 'no-certificate' ? NO_CERTIFICATE.alert.name : null);
  const certTable = x.cert
    ? `<h2>The certificate the client presented</h2><div class="card"><table>
${row('Subject', x.cert.subject)}${row('Issuer', x.cert.issuer)}${row('Serial number', x.cert.serialNumber)}${row('Valid from', x.cert.validFrom)}${row('Valid to', x.cert.validTo)}${row('SHA-256 fingerprint', x.cert.fingerprint256)}${row('Chain', x.cert.chainNotRead)}
</table></div>`
    : '';
  const checklist = x.checklist
    .map((c) => `<li class="${c.applies ? 'applies' : ''}" data-check="${escapeHtml(c.id)}">${escapeHtml(c.text)}</li>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${x.status} ${x.title}</title><style>${CSS}</style></head>
<body><main data-kind="${x.kind}">
<h1><span class="code">${x.status}</span> ${x.title}</h1>
<p class="lead" id="reason">${escapeHtml(x.reason)}</p>
<div class="card fix"><strong>How to fix it:</strong> <span id="hint">${escapeHtml(x.hint)}</span></div>
<h2>What the edge saw</h2><div class="card"><table>
${row('Host (SNI)', x.sni ?? '(none sent)')}${verifyRows}
</table></div>
${certTable}
<h2>Checklist</h2><div class="card"><ul>
${checklist}
</ul></div>
<footer>mtls-edge explain mode. A real edge closes this connection during the TLS handshake instead of answering; this page exists so that you can see why.</footer>
</main></body></html>
`;
}

function renderText(x: Explanation): string {
  const lines = [`${x.status} ${x.title}`, '', x.reason, '', `How to fix it: ${x.hint}`, '', `Host (SNI): ${x.sni ?? '(none sent)'}`];
  if (x.verify) lines.push(`OpenSSL: ${x.verify.name} (${x.verify.code}): ${x.verify.text}`, `TLS alert a real edge sends: ${x.verify.alert ?? '-'}`);
  if (x.cert) lines.push(`Subject: ${x.cert.subject}`, `Issuer: ${x.cert.issuer}`, `Valid: ${x.cert.validFrom} .. ${x.cert.validTo}`);
  // The chain itself is not listed here; only that it was not read (a client over the size bound).
  if (x.cert?.chainNotRead) lines.push(`Chain: ${x.cert.chainNotRead}`);
  lines.push('', 'Checklist:', ...x.checklist.map((c) => `${c.applies ? '->' : '  '} ${c.text}`), '');
  // SNI and certificate text may hold controls, separators or bidi characters; a terminal must not
  // interpret them. Each line is escaped on its own, so the newlines between lines stay.
  return lines.map(escapeText).join('\n');
}

export function renderExplanation(input: ExplainInput, accept: string | undefined): ExplainResponse {
  const x = explain(input);
  const type = negotiate(accept, ['text/html', 'application/json', 'text/plain']);
  if (type === 'application/json') {
    const body = {
      status: x.status,
      error: x.kind === 'no-certificate' ? 'ssl_certificate_required' : 'ssl_certificate_error',
      reason: x.reason,
      hint: x.hint,
      sni: x.sni,
      verify: x.verify,
      certificate: x.cert,
      checklist: x.checklist,
    };
    return { status: x.status, contentType: 'application/json; charset=utf-8', body: safeJson(body, 2) + '\n' };
  }
  if (type === 'text/plain') return { status: x.status, contentType: 'text/plain; charset=utf-8', body: renderText(x) };
  return { status: x.status, contentType: 'text/html; charset=utf-8', body: renderHtml(x) };
}
