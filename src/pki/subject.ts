// Distinguished names as data: a list of RDNs in DER order, each RDN a list of (short name, value)
// pairs; more than one pair makes a multi-valued RDN (`OU=a+OU=b`).
type Rdn = ReadonlyArray<readonly [attr: string, value: string]>;
export type Subject = readonly Rdn[];

/** Renders a subject as openssl's `-subj` argument, escaping the characters its parser treats specially. */
export function toOpensslSubj(subject: Subject): string {
  if (subject.length === 0) return '/';
  const esc = (v: string): string => v.replace(/[\\/+=]/g, (c) => `\\${c}`);
  return subject.map((rdn) => '/' + rdn.map(([a, v]) => `${a}=${esc(v)}`).join('+')).join('');
}

/**
 * Parses the user-facing `/C=DE/O=Acme/CN=x` or `CN=x,O=Acme,C=DE` (RFC 2253, most-specific first)
 * forms. The slash form keeps its order; the comma form is reversed into DER order.
 */
export function parseSubject(text: string): Subject {
  const trimmed = text.trim();
  if (trimmed.startsWith('/')) {
    return splitUnescaped(trimmed.slice(1), '/').filter((s) => s.length > 0).map(parseRdn);
  }
  return splitUnescaped(trimmed, ',').map((s) => s.trim()).filter((s) => s.length > 0).map(parseRdn).reverse();
}

function parseRdn(text: string): Rdn {
  return splitUnescaped(text, '+').map((pair) => {
    const eq = indexOfUnescaped(pair, '=');
    if (eq <= 0) throw new Error(`"${pair}" is not of the form NAME=value`);
    return [pair.slice(0, eq).trim(), unescape(pair.slice(eq + 1))] as const;
  });
}

function splitUnescaped(text: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      cur += c + text[i + 1];
      i++;
    } else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function indexOfUnescaped(text: string, ch: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === ch) return i;
  }
  return -1;
}

const unescape = (v: string): string => v.replace(/\\(.)/g, '$1');
