// Small, allocation-light formatting helpers shared by the access log and the handshake log.

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;
const pad3 = (n: number): string => (n < 10 ? '00' : n < 100 ? '0' : '') + n;

// Access-log lines come in bursts within one second: format the second once and reuse it.
let clfSecond = -1;
let clfCached = '';

/** Common Log Format date in UTC: `23/Nov/2025:15:32:07 +0000`. */
export function clfDate(time: number): string {
  const second = Math.floor(time / 1000);
  if (second === clfSecond) return clfCached;
  const d = new Date(second * 1000);
  clfCached = `${pad2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000`;
  clfSecond = second;
  return clfCached;
}

/** HAProxy's accept date, UTC with milliseconds: `23/Nov/2025:15:32:07.123`. */
export function haproxyDate(time: number): string {
  const d = new Date(time);
  return `${pad2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}.${pad3(d.getUTCMilliseconds())}`;
}

/** `HTTP/1.1` whether the edge reports `1.1` or `HTTP/1.1`. */
export function httpVersionLabel(v: string): string {
  return v.startsWith('HTTP/') ? v : `HTTP/${v}`;
}
