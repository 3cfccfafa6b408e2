// `certs inspect`: what a certificate file holds, in the terms the edge and its headers use.
import type { X509Certificate } from 'node:crypto';
import { subjectAndIssuer, toOneline, toRfc2253 } from './dn.js';
import { isSelfIssued, orderChain, readMaterial, type MaterialFormat } from './readMaterial.js';
import { verifyAgainst, type Verdict } from './verify.js';

const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth', '1.3.6.1.5.5.7.3.2': 'clientAuth', '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection', '1.3.6.1.5.5.7.3.8': 'timeStamping', '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
};

interface CertSummary {
  subject: { rfc2253: string; oneline: string };
  issuer: { rfc2253: string; oneline: string };
  serial: string;
  notBefore: string;
  notAfter: string;
  /** Negative once expired. */
  daysLeft: number;
  sha256: string;
  keyType: string;
  isCa: boolean;
  selfSigned: boolean;
  /** Extended key usage names (or OIDs); undefined when the extension is absent (any purpose). */
  eku?: string[];
  sans: string[];
}

export interface FileReport {
  file: string;
  format: MaterialFormat;
  hasKey: boolean;
  /** Certificates in file order. */
  certs: CertSummary[];
  /** `in order` when each certificate is followed by its issuer, else a note. */
  chainOrder: string;
  verdict?: { code: number; name: string; text: string; hint: string; alert: string | null; opensslErrors: Verdict['opensslErrors'] };
}

function keyType(cert: X509Certificate): string {
  const pk = cert.publicKey;
  const d = pk.asymmetricKeyDetails;
  if (pk.asymmetricKeyType === 'rsa') return `RSA ${d?.modulusLength ?? '?'}`;
  if (pk.asymmetricKeyType === 'ec') return `EC ${d?.namedCurve ?? '?'}`;
  return String(pk.asymmetricKeyType ?? 'unknown').toUpperCase();
}

function summarize(cert: X509Certificate, now = Date.now()): CertSummary {
  const { subject, issuer } = subjectAndIssuer(cert.raw);
  const notAfter = new Date(cert.validTo);
  const eku = cert.keyUsage as string[] | undefined; // Node names the EKU list `keyUsage`
  return {
    subject: { rfc2253: toRfc2253(subject), oneline: toOneline(subject) },
    issuer: { rfc2253: toRfc2253(issuer), oneline: toOneline(issuer) },
    serial: cert.serialNumber,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor((notAfter.getTime() - now) / 86_400_000),
    sha256: cert.fingerprint256,
    keyType: keyType(cert),
    isCa: cert.ca,
    selfSigned: isSelfIssued(cert) && cert.verify(cert.publicKey),
    eku: eku?.map((o) => EKU_NAMES[o] ?? o),
    sans: cert.subjectAltName ? cert.subjectAltName.split(', ') : [],
  };
}

function chainOrderNote(certs: readonly X509Certificate[]): string {
  if (certs.length <= 1) return 'single certificate';
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!certs[i]!.checkIssued(certs[i + 1]!)) return `not in order: certificate ${i + 2} did not issue certificate ${i + 1} (leaf first, then each issuer)`;
  }
  return 'in order (leaf first, each followed by its issuer)';
}

export interface InspectOptions {
  password?: string;
  against?: readonly string[];
  crls?: readonly string[];
}

export async function inspectFile(file: string, opts: InspectOptions = {}): Promise<FileReport> {
  const m = await readMaterial(file, { password: opts.password });
  const report: FileReport = {
    file, format: m.format, hasKey: m.key !== undefined, certs: m.certs.map((c) => summarize(c)), chainOrder: chainOrderNote(m.certs),
  };
  if (opts.against && opts.against.length > 0 && m.certs.length > 0) {
    const trust = (await Promise.all(opts.against.map((t) => readMaterial(t)))).flatMap((t) => t.certs);
    const v = await verifyAgainst(orderChain(m.certs, m.key), trust, opts.crls ?? []);
    report.verdict = {
      code: v.code, name: v.info.name, text: v.info.text, hint: v.info.hint,
      alert: v.info.alert ? `${v.info.alert.name} (${v.info.alert.code})` : null, opensslErrors: v.opensslErrors,
    };
  }
  return report;
}

export function formatReport(r: FileReport): string {
  const lines = [`${r.file}: ${r.format.toUpperCase()}, ${r.certs.length} certificate(s)${r.hasKey ? ' + private key' : ''}`];
  r.certs.forEach((c, i) => {
    lines.push(
      `  [${i + 1}] ${c.subject.oneline || '(empty subject)'}`,
      `      subject   ${c.subject.rfc2253}`,
      `      oneline   ${c.subject.oneline}`,
      `      issuer    ${c.issuer.rfc2253}`,
      `      oneline   ${c.issuer.oneline}`,
      `      serial    ${c.serial}`,
      `      valid     ${c.notBefore} .. ${c.notAfter} (${c.daysLeft < 0 ? `expired ${-c.daysLeft} days ago` : `${c.daysLeft} days left`})`,
      `      sha256    ${c.sha256}`,
      `      key       ${c.keyType}${c.isCa ? ', CA' : ''}${c.selfSigned ? ', self-signed' : ''}`,
      `      eku       ${c.eku ? c.eku.join(', ') : '(none: any purpose)'}`,
      `      sans      ${c.sans.length ? c.sans.join(', ') : '(none)'}`,
    );
  });
  lines.push(`  chain     ${r.chainOrder}`);
  if (r.verdict) {
    const v = r.verdict;
    const first = v.opensslErrors[0];
    const also = first && first.code !== v.code ? ` (openssl verify stops at ${first.code}: ${first.text})` : '';
    lines.push(`  verdict   ${v.code} ${v.name}: ${v.text}${also}`);
    if (v.alert) lines.push(`  alert     ${v.alert} when not ignored`);
    lines.push(`  fix       ${v.hint}`);
  }
  return lines.join('\n');
}
