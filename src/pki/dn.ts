// Display forms of a certificate's subject/issuer for `certs inspect`: RFC 2253 and the edge's
// oneline form (`/C=DE/O=Acme/CN=x`). This is a readable renderer (values decoded to text); the
// byte-exact header renderer lives in src/headers/.
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, Name } from '@peculiar/asn1-x509';
import { openSslShortName } from '../headers/opensslShortNames.js';

interface DnAttribute {
  oid: string;
  /** OpenSSL short name (the table the DN headers use), or the dotted OID when unknown. */
  name: string;
  value: string;
  /** The ASN.1 string type the value was encoded with. */
  type: 'UTF8String' | 'PrintableString' | 'BMPString' | 'TeletexString' | 'UniversalString' | 'IA5String' | 'other';
}
export type DnRdn = DnAttribute[];

function attributeOf(oid: string, v: Name[number][number]['value']): DnAttribute {
  const name = openSslShortName(oid) ?? oid;
  const pick = (type: DnAttribute['type'], value: string | undefined): DnAttribute | undefined =>
    value === undefined ? undefined : { oid, name, value, type };
  return (
    pick('UTF8String', v.utf8String) ??
    pick('PrintableString', v.printableString) ??
    pick('BMPString', v.bmpString) ??
    pick('TeletexString', v.teletexString) ??
    pick('UniversalString', v.universalString) ??
    pick('IA5String', v.ia5String) ?? { oid, name, value: v.toString(), type: 'other' }
  );
}

export function parseName(name: Name): DnRdn[] {
  return name.map((rdn) => rdn.map((atv) => attributeOf(atv.type, atv.value)));
}

export function subjectAndIssuer(der: Uint8Array): { subject: DnRdn[]; issuer: DnRdn[] } {
  const cert = AsnConvert.parse(der, Certificate);
  return { subject: parseName(cert.tbsCertificate.subject), issuer: parseName(cert.tbsCertificate.issuer) };
}

/** RFC 2253: most specific RDN first, `,` between RDNs, `+` inside one, specials escaped. */
export function toRfc2253(rdns: readonly DnRdn[]): string {
  const esc = (v: string): string =>
    v
      .replace(/[,+"\\<>;=]/g, (c) => `\\${c}`)
      .replace(/^[ #]/, (c) => `\\${c}`)
      .replace(/ $/, '\\ ');
  return [...rdns].reverse().map((rdn) => rdn.map((a) => `${a.name}=${esc(a.value)}`).join('+')).join(',');
}

/** OpenSSL oneline: DER order, `/NAME=value` per attribute, multi-valued RDNs flattened, no escaping. */
export function toOneline(rdns: readonly DnRdn[]): string {
  return rdns.flat().map((a) => `/${a.name}=${a.value}`).join('');
}
