// Display forms of a certificate's subject/issuer for `certs inspect`: RFC 2253 and the edge's
// oneline form (`/C=DE/O=Acme/CN=x`). This is a readable renderer (values decoded to text); the
// byte-exact header renderer lives in src/headers/.
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, Name } from '@peculiar/asn1-x509';

export interface DnAttribute {
  oid: string;
  /** OpenSSL short name, or the dotted OID when unknown. */
  name: string;
  value: string;
  /** The ASN.1 string type the value was encoded with. */
  type: 'UTF8String' | 'PrintableString' | 'BMPString' | 'TeletexString' | 'UniversalString' | 'IA5String' | 'other';
}
export type DnRdn = DnAttribute[];

const SHORT_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.4': 'SN', '2.5.4.5': 'serialNumber', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST',
  '2.5.4.9': 'street', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.12': 'title', '2.5.4.13': 'description',
  '2.5.4.17': 'postalCode', '2.5.4.42': 'GN', '2.5.4.43': 'initials', '2.5.4.44': 'generationQualifier',
  '2.5.4.46': 'dnQualifier', '2.5.4.65': 'pseudonym', '2.5.4.97': 'organizationIdentifier',
  '1.2.840.113549.1.9.1': 'emailAddress', '0.9.2342.19200300.100.1.25': 'DC', '0.9.2342.19200300.100.1.1': 'UID',
};

function attributeOf(oid: string, v: Name[number][number]['value']): DnAttribute {
  const name = SHORT_NAMES[oid] ?? oid;
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
