// PKCS#12 (RFC 7292) written and read in-process. The structures come from @peculiar/asn1-pfx (the
// schema family whose x509 package we already use); the crypto is node:crypto: PBKDF2, AES-CBC,
// 3DES, HMAC. Why not pkijs: it drives its crypto through WebCrypto, which has no 3DES, so it cannot
// read the PBE-SHA1-3DES keystores Windows, macOS and older OpenSSL/Java write, and it brings a second
// ASN.1 stack. Why not node-forge: its writer knows only SHA-1 MACs. What we write is what
// `openssl pkcs12 -export -keypbe AES-256-CBC -certpbe AES-256-CBC -macalg sha256` writes: PBES2
// (PBKDF2-HMAC-SHA256, AES-256-CBC) for key and certificates, a SHA-256 MAC; OpenSSL 3 (no
// -legacy), Java 17+ keytool and curl read it. RC2/RC4-encrypted keystores (OpenSSL 1.x defaults)
// cannot be read: Node's OpenSSL has those ciphers only in its legacy provider.
import { createCipheriv, createDecipheriv, createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { ContentInfo, EncryptedContent, EncryptedContentInfo } from '@peculiar/asn1-cms';
import {
  AuthenticatedSafe, CertBag, MacData, PFX, PKCS12Attribute, SafeBag, SafeContents, id_certBag, id_keyBag, id_pkcs8ShroudedKeyBag,
  id_x509Certificate,
} from '@peculiar/asn1-pfx';
import { EncryptedPrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { DigestInfo } from '@peculiar/asn1-rsa';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { encodeOid, tlv } from './certBuilder.js';
import { oidToDotted, readTlv, type Tlv } from '../headers/der.js';

/** Why a keystore could not be read; the caller names the file and the fix. */
export class Pkcs12Error extends Error {
  constructor(
    readonly reason: 'password' | 'unsupported' | 'garbled',
    message: string,
  ) {
    super(message);
    this.name = 'Pkcs12Error';
  }
}

export interface Pkcs12Contents {
  /** DER certificates in file order. */
  certs: Buffer[];
  /** PKCS#8 DER of the private key, decrypted. */
  privateKeyPkcs8?: Buffer;
}

const OIDS = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbeSha3Des: '1.2.840.113549.1.12.1.3',
  pbeSha2Des: '1.2.840.113549.1.12.1.4',
} as const;

const HASH_OID: Record<string, 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512'> = {
  '1.3.14.3.2.26': 'sha1', '2.16.840.1.101.3.4.2.4': 'sha224', '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384', '2.16.840.1.101.3.4.2.3': 'sha512',
};
const HMAC_OID: Record<string, 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512'> = {
  '1.2.840.113549.2.7': 'sha1', '1.2.840.113549.2.8': 'sha224', '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384', '1.2.840.113549.2.11': 'sha512',
};
const CBC_CIPHER: Record<string, { name: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24 },
};
const AES_256_CBC = '2.16.840.1.101.3.4.1.42';
const HMAC_SHA256 = '1.2.840.113549.2.9';
const SHA256 = '2.16.840.1.101.3.4.2.1';

/** OpenSSL's `-iter` default for `pkcs12 -export` in our former command; used for PBKDF2 and the MAC. */
const PKCS12_ITERATIONS = 10_000;

// ---- key derivation ----------------------------------------------------------------------------

/** The password as PKCS#12's own KDF takes it: BMPString (UTF-16BE) with a two-byte terminator. */
const bmpPassword = (password: string): Buffer => Buffer.concat([Buffer.from(password, 'utf16le').swap16(), Buffer.alloc(2)]);

const BLOCK_BYTES: Record<string, number> = { sha1: 64, sha224: 64, sha256: 64, sha384: 128, sha512: 128 };

/** RFC 7292 appendix B.2: id 1 derives a key, 2 an IV, 3 a MAC key. */
// A file read from a user may name any count; one past this would keep the CLI busy for minutes
// (openssl and keytool write 2,048 to 10,000; we write PKCS12_ITERATIONS).
const MAX_ITERATIONS = 10_000_000;

function checkedIterations(n: number): number {
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_ITERATIONS) throw new Pkcs12Error('unsupported', `an iteration count of ${n} (at most ${MAX_ITERATIONS} are read)`);
  return n;
}

function pkcs12Kdf(hash: string, password: string, salt: Uint8Array, id: 1 | 2 | 3, iterations: number, length: number): Buffer {
  checkedIterations(iterations);
  const v = BLOCK_BYTES[hash]!;
  const fill = (b: Uint8Array): Buffer => {
    if (b.length === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(v * Math.ceil(b.length / v));
    for (let i = 0; i < out.length; i++) out[i] = b[i % b.length]!;
    return out;
  };
  const I = Buffer.concat([fill(salt), fill(bmpPassword(password))]);
  const D = Buffer.alloc(v, id);
  const parts: Buffer[] = [];
  for (let produced = 0; produced < length;) {
    let A = createHash(hash).update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash(hash).update(A).digest();
    parts.push(A);
    produced += A.length;
    const B = Buffer.alloc(v);
    for (let i = 0; i < v; i++) B[i] = A[i % A.length]!;
    // I_j = (I_j + B + 1) mod 2^(8v) for every v-byte block.
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k]! + B[k]! + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(parts).subarray(0, length);
}

// ---- small DER helpers (the parameter structures have no schema in the asn1 packages) ----------

const SEQUENCE = 0x30;
const derInteger = (n: number): Buffer => {
  const hex = n.toString(16);
  const b = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  return tlv(0x02, b[0]! & 0x80 ? Buffer.concat([Buffer.alloc(1), b]) : b);
};
const NULL = Buffer.from([0x05, 0x00]);

function children(buf: Uint8Array, outer: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = outer.start; p < outer.end;) {
    const t = readTlv(buf, p, outer.end);
    out.push(t);
    p = t.end;
  }
  return out;
}
const oidOf = (buf: Uint8Array, t: Tlv | undefined): string => (t && t.tag === 6 ? oidToDotted(buf, t.start, t.end) : '');
const intOf = (buf: Uint8Array, t: Tlv | undefined): number => {
  if (!t || t.tag !== 2 || t.end - t.start > 6) throw new Pkcs12Error('garbled', 'bad INTEGER in the encryption parameters');
  return Buffer.from(buf.subarray(t.start, t.end)).readUIntBE(0, t.end - t.start);
};
const bytesOf = (buf: Uint8Array, t: Tlv | undefined): Buffer => {
  if (!t || t.tag !== 4) throw new Pkcs12Error('garbled', 'missing OCTET STRING in the encryption parameters');
  return Buffer.from(buf.subarray(t.start, t.end));
};

// ---- encryption ------------------------------------------------------------------------------------

/** PBES2: PBKDF2-HMAC-SHA256 and AES-256-CBC (RFC 8018); the password goes in as its UTF-8 bytes. */
function pbes2Encrypt(plain: Uint8Array, password: string, iterations: number): { algorithm: AlgorithmIdentifier; encrypted: Buffer } {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
  const params = tlv(SEQUENCE,
    tlv(SEQUENCE, encodeOid(OIDS.pbkdf2), tlv(SEQUENCE, tlv(0x04, salt), derInteger(iterations), tlv(SEQUENCE, encodeOid(HMAC_SHA256), NULL))),
    tlv(SEQUENCE, encodeOid(AES_256_CBC), tlv(0x04, iv)));
  return { algorithm: new AlgorithmIdentifier({ algorithm: OIDS.pbes2, parameters: Uint8Array.from(params).buffer }), encrypted };
}

function decrypt(algorithm: AlgorithmIdentifier, encrypted: Uint8Array, password: string): Buffer {
  const params = new Uint8Array(algorithm.parameters ?? new ArrayBuffer(0));
  let cipherName: string;
  let key: Buffer;
  let iv: Buffer;
  if (algorithm.algorithm === OIDS.pbes2) {
    const [kdf, scheme] = children(params, readTlv(params, 0));
    const kdfParts = kdf ? children(params, kdf) : [];
    if (oidOf(params, kdfParts[0]) !== OIDS.pbkdf2) throw new Pkcs12Error('unsupported', 'PBES2 with a key derivation other than PBKDF2');
    const p = children(params, kdfParts[1]!);
    const salt = bytesOf(params, p[0]);
    const iterations = checkedIterations(intOf(params, p[1]));
    const prfTlv = p.slice(2).find((t) => t.tag === 16);
    const prf = prfTlv ? HMAC_OID[oidOf(params, children(params, prfTlv)[0])] : 'sha1';
    const schemeParts = scheme ? children(params, scheme) : [];
    const cipher = CBC_CIPHER[oidOf(params, schemeParts[0])];
    if (!prf || !cipher) throw new Pkcs12Error('unsupported', 'PBES2 with a cipher or PRF other than AES-CBC/3DES and HMAC-SHA1/2');
    cipherName = cipher.name;
    key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, cipher.keyLength, prf);
    iv = bytesOf(params, schemeParts[1]);
  } else if (algorithm.algorithm === OIDS.pbeSha3Des || algorithm.algorithm === OIDS.pbeSha2Des) {
    const p = children(params, readTlv(params, 0));
    const salt = bytesOf(params, p[0]);
    const iterations = checkedIterations(intOf(params, p[1]));
    const threeKey = algorithm.algorithm === OIDS.pbeSha3Des;
    cipherName = threeKey ? 'des-ede3-cbc' : 'des-ede-cbc';
    key = pkcs12Kdf('sha1', password, salt, 1, iterations, threeKey ? 24 : 16);
    iv = pkcs12Kdf('sha1', password, salt, 2, iterations, 8);
  } else {
    throw new Pkcs12Error('unsupported', `encrypted with ${algorithm.algorithm} (RC2 or RC4, the OpenSSL 1.x default), which Node cannot decrypt`);
  }
  try {
    const d = createDecipheriv(cipherName, key, iv);
    return Buffer.concat([d.update(encrypted), d.final()]);
  } catch {
    throw new Pkcs12Error('password', 'cannot decrypt: wrong password');
  }
}

// ---- writing ---------------------------------------------------------------------------------------

export interface Pkcs12Input {
  key: KeyObject;
  /** DER, leaf first. */
  certs: readonly Uint8Array[];
  /** The alias keytool shows and the name browsers list. */
  friendlyName: string;
  password: string;
  iterations?: number;
}

function attribute(attrId: string, value: Buffer): PKCS12Attribute {
  // Set after construction: PKCS12Attribute's constructor drops its params (asn1-pfx 2.x, `Object.assign(params)`).
  const a = new PKCS12Attribute();
  a.attrId = attrId;
  a.attrValues = [Uint8Array.from(value).buffer];
  return a;
}
const ab = (b: Uint8Array | ArrayBuffer): ArrayBuffer => (b instanceof ArrayBuffer ? b : Uint8Array.from(b).buffer);

export function writePkcs12(input: Pkcs12Input): Buffer {
  const iterations = input.iterations ?? PKCS12_ITERATIONS;
  if (input.certs.length === 0) throw new Error('a PKCS#12 keystore needs at least the leaf certificate');
  // localKeyID ties the key to its certificate (what Java and browsers pair them by): SHA-1 of the leaf, as OpenSSL sets it.
  const leafAttrs = [
    attribute(OIDS.friendlyName, tlv(0x1e, Buffer.from(input.friendlyName, 'utf16le').swap16())),
    attribute(OIDS.localKeyId, tlv(0x04, createHash('sha1').update(input.certs[0]!).digest())),
  ];
  const certBags = new SafeContents(input.certs.map((der, i) => new SafeBag({
    bagId: id_certBag,
    bagValue: AsnConvert.serialize(new CertBag({ certId: id_x509Certificate, certValue: AsnConvert.serialize(new OctetString(der)) })),
    bagAttributes: i === 0 ? leafAttrs : undefined,
  })));
  const sealedCerts = pbes2Encrypt(Buffer.from(AsnConvert.serialize(certBags)), input.password, iterations);
  const encryptedData = tlv(SEQUENCE, derInteger(0), Buffer.from(AsnConvert.serialize(new EncryptedContentInfo({
    contentType: OIDS.data,
    contentEncryptionAlgorithm: sealedCerts.algorithm,
    encryptedContent: new EncryptedContent({ value: new OctetString(sealedCerts.encrypted) }),
  }))));

  const sealedKey = pbes2Encrypt(input.key.export({ type: 'pkcs8', format: 'der' }), input.password, iterations);
  const keyBags = new SafeContents([new SafeBag({
    bagId: id_pkcs8ShroudedKeyBag,
    bagValue: AsnConvert.serialize(new EncryptedPrivateKeyInfo({ encryptionAlgorithm: sealedKey.algorithm, encryptedData: new OctetString(sealedKey.encrypted) })),
    bagAttributes: leafAttrs,
  })]);

  const authSafe = Buffer.from(AsnConvert.serialize(new AuthenticatedSafe([
    new ContentInfo({ contentType: OIDS.encryptedData, content: ab(encryptedData) }),
    new ContentInfo({ contentType: OIDS.data, content: AsnConvert.serialize(new OctetString(AsnConvert.serialize(keyBags))) }),
  ])));
  const macSalt = randomBytes(16);
  const macKey = pkcs12Kdf('sha256', input.password, macSalt, 3, iterations, 32);
  const mac = createHmac('sha256', macKey).update(authSafe).digest();
  const pfx = new PFX({
    version: 3,
    authSafe: new ContentInfo({ contentType: OIDS.data, content: AsnConvert.serialize(new OctetString(authSafe)) }),
    macData: new MacData({
      mac: new DigestInfo({ digestAlgorithm: new AlgorithmIdentifier({ algorithm: SHA256, parameters: null }), digest: new OctetString(mac) }),
      macSalt: new OctetString(macSalt),
      iterations,
    }),
  });
  return Buffer.from(AsnConvert.serialize(pfx));
}

// ---- reading ---------------------------------------------------------------------------------------

const octets = (anyTlv: ArrayBuffer): Buffer => Buffer.from(AsnConvert.parse(anyTlv, OctetString).buffer);

function verifyMac(pfx: PFX, content: Buffer, password: string): void {
  const { mac, macSalt } = pfx.macData;
  // @peculiar/asn1-schema hands an INTEGER of four or more bytes (from 8,388,608 on) over as a
  // decimal string, whatever its type says.
  const iterations = Number(pfx.macData.iterations as number | string);
  const hash = HASH_OID[mac.digestAlgorithm.algorithm];
  if (!hash) throw new Pkcs12Error('unsupported', `MAC with an unknown digest ${mac.digestAlgorithm.algorithm}`);
  const expected = Buffer.from(mac.digest.buffer);
  const key = pkcs12Kdf(hash, password, new Uint8Array(macSalt.buffer), 3, iterations, createHash(hash).digest().length);
  const actual = createHmac(hash, key).update(content).digest();
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) throw new Pkcs12Error('password', 'MAC verification failed: wrong password');
}

function encryptedSafeContents(contentTlv: ArrayBuffer, password: string): Buffer {
  const der = new Uint8Array(contentTlv);
  const [version, eci] = children(der, readTlv(der, 0));
  if (!version || !eci) throw new Pkcs12Error('garbled', 'EncryptedData without content');
  const info = AsnConvert.parse(der.subarray(eci.offset, eci.end), EncryptedContentInfo);
  const c = info.encryptedContent;
  const encrypted = c?.value ? Buffer.from(c.value.buffer) : Buffer.concat((c?.constructedValue ?? []).map((o) => Buffer.from(o.buffer)));
  return decrypt(info.contentEncryptionAlgorithm, encrypted, password);
}

export function readPkcs12(data: Uint8Array, password: string): Pkcs12Contents {
  let pfx: PFX;
  try {
    pfx = AsnConvert.parse(data, PFX);
  } catch {
    throw new Pkcs12Error('garbled', 'not a PKCS#12 structure');
  }
  if (pfx.authSafe.contentType !== OIDS.data) throw new Pkcs12Error('unsupported', 'public-key integrity mode (signed PKCS#12) is not supported');
  const content = octets(pfx.authSafe.content);
  if (pfx.macData) verifyMac(pfx, content, password);
  const certs: Buffer[] = [];
  let privateKeyPkcs8: Buffer | undefined;
  for (const info of AsnConvert.parse(content, AuthenticatedSafe)) {
    const safe = info.contentType === OIDS.data ? octets(info.content)
      : info.contentType === OIDS.encryptedData ? encryptedSafeContents(info.content, password)
      : undefined;
    if (!safe) continue; // enveloped (public-key privacy) contents are not ours to open
    for (const bag of AsnConvert.parse(safe, SafeContents)) {
      if (bag.bagId === id_certBag) {
        const cert = AsnConvert.parse(bag.bagValue, CertBag);
        if (cert.certId === id_x509Certificate) certs.push(octets(cert.certValue));
      } else if (bag.bagId === id_pkcs8ShroudedKeyBag && !privateKeyPkcs8) {
        const epki = AsnConvert.parse(bag.bagValue, EncryptedPrivateKeyInfo);
        privateKeyPkcs8 = decrypt(epki.encryptionAlgorithm, new Uint8Array(epki.encryptedData.buffer), password);
      } else if (bag.bagId === id_keyBag && !privateKeyPkcs8) {
        privateKeyPkcs8 = Buffer.from(bag.bagValue);
      }
    }
  }
  return { certs, privateKeyPkcs8 };
}
