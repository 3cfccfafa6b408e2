// Client certificates with SEVERAL defects at once, written to a directory for the edge and HAProxy:
// a trusted root and intermediate, their CRLs, and one client identity (leaf + intermediate, key) per
// scenario, with the (code, depth) errors OpenSSL 3 meets for it and the code it reports last.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EKU_SERVER, expired, forgeCert, forgeCrl, forgeKey, keyPem, KU, LEAF_EXT, pem, ROOT_EXT, validNow, type ForgeKey } from './certForge.js';

export interface DefectScenario {
  readonly name: string;
  /** PEM: leaf, then the intermediate it was issued by. */
  readonly certFile: string;
  readonly keyFile: string;
  /** What X-SSL-Client-Verify carries when accepted (OpenSSL's last error). */
  readonly lastCode: number;
  /** Every error OpenSSL meets: [code, depth]. */
  readonly errors: readonly (readonly [number, number])[];
}

export interface DefectPki {
  readonly dir: string;
  readonly trustFile: string;
  /** Root CRL + intermediate CRL (the intermediate's revokes the `revoked-expired` leaf). */
  readonly crlFile: string;
  readonly crlFiles: readonly string[];
  readonly scenarios: readonly DefectScenario[];
  remove(): void;
}

const DAY = 86_400_000;

export function buildDefectPki(): DefectPki {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-defects-'));
  const rootKey = forgeKey();
  const intKey = forgeKey();
  const root = forgeCert({ subject: 'Defect Root', issuer: 'Defect Root', serial: 1, key: rootKey, signer: rootKey, ...validNow(), ...ROOT_EXT });
  const int = forgeCert({ subject: 'Defect Int', issuer: 'Defect Root', serial: 2, key: intKey, signer: rootKey, ...validNow(), ...ROOT_EXT });
  const trustFile = join(dir, 'trust.pem');
  writeFileSync(trustFile, pem(root, 'CERTIFICATE'));
  const crlTimes = { thisUpdate: new Date(Date.now() - DAY), nextUpdate: new Date(Date.now() + 7 * DAY) };
  const rootCrl = join(dir, 'root.crl.pem');
  const intCrl = join(dir, 'int.crl.pem');
  writeFileSync(rootCrl, forgeCrl({ issuer: 'Defect Root', signer: rootKey, revokedSerials: [], ...crlTimes }));
  writeFileSync(intCrl, forgeCrl({ issuer: 'Defect Int', signer: intKey, revokedSerials: [102], ...crlTimes }));
  const crlFile = join(dir, 'crls.pem');
  writeFileSync(crlFile, `${forgeCrl({ issuer: 'Defect Root', signer: rootKey, revokedSerials: [], ...crlTimes })}${forgeCrl({ issuer: 'Defect Int', signer: intKey, revokedSerials: [102], ...crlTimes })}`);

  const scenarios: DefectScenario[] = [];
  const write = (name: string, chain: readonly Buffer[], key: ForgeKey, lastCode: number, errors: DefectScenario['errors']): void => {
    const certFile = join(dir, `${name}.pem`);
    const keyFile = join(dir, `${name}.key`);
    writeFileSync(certFile, chain.map((c) => pem(c, 'CERTIFICATE')).join(''));
    writeFileSync(keyFile, keyPem(key), { mode: 0o600 });
    scenarios.push({ name, certFile, keyFile, lastCode, errors });
  };
  const leafKey = forgeKey();
  const leaf = (serial: number, extra: Partial<Parameters<typeof forgeCert>[0]>, signer: ForgeKey = intKey, issuer = 'Defect Int'): Buffer =>
    forgeCert({ subject: `client ${serial}`, issuer, serial, key: leafKey, signer, ...validNow(), ...LEAF_EXT, ...extra });

  write('bad-signature-expired', [leaf(101, { ...expired(), corruptSignature: true }), int], leafKey, 10, [[7, 0], [10, 0]]);
  write('revoked-expired', [leaf(102, expired()), int], leafKey, 10, [[23, 0], [10, 0]]);
  write('wrong-purpose-expired', [leaf(103, { ...expired(), eku: [EKU_SERVER] }), int], leafKey, 10, [[26, 0], [10, 0]]);
  const notCaKey = forgeKey();
  const notCa = forgeCert({ subject: 'Not A CA', issuer: 'Defect Root', serial: 3, key: notCaKey, signer: rootKey, ...validNow(), ca: { ca: false }, keyUsage: KU.keyCertSign | KU.cRLSign, eku: null });
  write('ca-without-ca-flag', [leaf(104, {}, notCaKey, 'Not A CA'), notCa], leafKey, 26, [[79, 1], [26, 1]]);
  const expiredIntKey = forgeKey();
  const expiredInt = forgeCert({ subject: 'Expired Int', issuer: 'Defect Root', serial: 4, key: expiredIntKey, signer: rootKey, ...expired(), ...ROOT_EXT });
  write('expired-intermediate', [leaf(105, {}, expiredIntKey, 'Expired Int'), expiredInt], leafKey, 10, [[10, 1]]);
  const strangerKey = forgeKey();
  write('untrusted-ca-expired', [leaf(106, expired(), strangerKey, 'Stranger CA')], leafKey, 10, [[20, 0], [21, 0], [10, 0]]);
  // Signed with SHA-1: OpenSSL 3 reports 68 (CA_MD_TOO_WEAK) before the dates; Node only the last (10).
  write('sha1-signature-expired', [leaf(107, { ...expired(), signatureHash: 'sha1' }), int], leafKey, 10, [[68, 0], [10, 0]]);
  // The client pads its chain with an unrelated self-signed certificate, twice, before the intermediate
  // that issued the leaf (EKU serverAuth only: 26 at depth 1). OpenSSL builds from every certificate sent.
  const serverOnlyKey = forgeKey();
  const serverOnly = forgeCert({ subject: 'Server-only Int', issuer: 'Defect Root', serial: 5, key: serverOnlyKey, signer: rootKey, ...validNow(), ...ROOT_EXT, eku: [EKU_SERVER] });
  const junkKey = forgeKey();
  const junk = forgeCert({ subject: 'Junk', issuer: 'Junk', serial: 6, key: junkKey, signer: junkKey, ...validNow(), ...ROOT_EXT });
  write('padded-chain-server-only-int-expired', [leaf(108, expired(), serverOnlyKey, 'Server-only Int'), junk, junk, serverOnly], leafKey, 10, [[26, 1], [10, 0]]);
  // Padded with an unrelated certificate that carries an unhandled critical extension: OpenSSL compares
  // a candidate issuer's name before it reads anything else of it, so this one never counts.
  const oddKey = forgeKey();
  const odd = forgeCert({ subject: 'Odd Unrelated', issuer: 'Odd Unrelated', serial: 7, key: oddKey, signer: oddKey, ...validNow(), ...ROOT_EXT, unknownCritical: true });
  write('padded-unhandled-critical-expired', [leaf(109, expired()), odd, int], leafKey, 10, [[10, 0]]);
  return { dir, trustFile, crlFile, crlFiles: [rootCrl, intCrl], scenarios, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
