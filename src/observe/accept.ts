// Minimal HTTP content negotiation (RFC 9110 §12.5.1): enough to pick between a few types we offer.

interface Range {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(accept: string): Range[] {
  const out: Range[] = [];
  for (const part of accept.split(',')) {
    const [media = '', ...params] = part.trim().split(';');
    const [type = '', subtype = ''] = media.trim().toLowerCase().split('/');
    if (!type || !subtype) continue;
    let q = 1;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      if (k?.trim().toLowerCase() === 'q' && v !== undefined) {
        const n = Number(v.trim());
        if (Number.isFinite(n)) q = Math.min(1, Math.max(0, n));
      }
    }
    out.push({ type, subtype, q });
  }
  return out;
}

/**
 * The offered type the client prefers; ties go to the earlier offer, and the first offer wins when
 * the header is absent, unparseable or refuses everything (an answer beats a 406 here).
 */
export function negotiate<T extends string>(accept: string | undefined, offers: readonly [T, ...T[]]): T {
  if (!accept) return offers[0];
  const ranges = parseAccept(accept);
  let best: T = offers[0];
  let bestQ = -1;
  for (const offer of offers) {
    const [type, subtype] = offer.split('/');
    // The most specific matching range decides the offer's quality.
    let q = -1;
    let specificity = -1;
    for (const r of ranges) {
      const s = r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : r.type === '*' ? 0 : -1;
      if (s > specificity) {
        specificity = s;
        q = r.q;
      }
    }
    if (q > bestQ) {
      bestQ = q;
      best = offer;
    }
  }
  return bestQ > 0 ? best : offers[0];
}
