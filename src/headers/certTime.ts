// HAProxy's ssl_c_notbefore / ssl_c_notafter (ssl_sock_get_time in HAProxy's src/ssl_utils.c):
// the Time's raw text, never reformatted, with HAProxy's own filters:
//   GeneralizedTime: shorter than 12 chars → nothing; not starting "20" → nothing (9999…, 19…);
//                    otherwise the text without its first two digits (20600101000000Z → 600101000000Z).
//   UTCTime:         shorter than 10 chars → nothing; first byte >= '5' (years 1950-1999) → nothing;
//                    otherwise verbatim.
// "Nothing" means the sample fetch fails, which ends up as an empty header value.

export type CertTimeTag = 'utc' | 'generalized';

export function haproxyTime(tag: CertTimeTag, text: string): string {
  if (tag === 'generalized') {
    if (text.length < 12) return '';
    if (text.charCodeAt(0) !== 0x32 || text.charCodeAt(1) !== 0x30) return '';
    return text.slice(2);
  }
  if (text.length < 10) return '';
  if (text.charCodeAt(0) >= 0x35) return '';
  return text;
}
