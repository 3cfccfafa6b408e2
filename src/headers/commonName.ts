// "The CN" of a subject or issuer, decided in one place for every form a name comes in: the value
// of the first attribute whose OpenSSL short name is CN, in the order the name lists its
// attributes (DER order, a multi-valued RDN's members in their encoded order), or null when there
// is none. The headers read it from DER (raw value bytes, as HAProxy), the logs and the user
// mapping from Node's X509Certificate text.

/** One attribute of a name: OpenSSL short name (or dotted OID) and value, in whatever form the caller holds. */
export type NameAttribute<V> = readonly [shortName: string, value: V];

export function firstCommonName<V>(attributes: Iterable<NameAttribute<V>>): V | null {
  for (const [shortName, value] of attributes) if (shortName === 'CN') return value;
  return null;
}

/**
 * Node's `X509Certificate.subject`/`.issuer` text as attributes: one line per RDN, `NAME=value`
 * with RFC 2253 escapes kept (`a\,b`). Node joins a multi-valued RDN's members on one line with
 * ` + `; such a line is taken whole, as one attribute named after its first member, so `CN=a + O=b`
 * gives `a + O=b` and `knowledgeInformation=b + CN=a` gives no CN (what the logs and the user
 * mapping have always shown). Node reports an empty name as undefined.
 */
export function* nodeDnAttributes(nodeDn: string | undefined): Generator<NameAttribute<string>> {
  if (typeof nodeDn !== 'string') return;
  for (const line of nodeDn.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) yield [line.slice(0, eq), line.slice(eq + 1)];
  }
}
