// Settings the edge reads once, when it starts, and a reload cannot change: what the listeners were
// bound and created with (addresses, ports, caps, the HTTP parser's header limit, the timeouts its
// servers and upstream pools were built with), the log and the admin listener (createObservability),
// and the processes (workers). A reload applies everything else and names these when they changed,
// rather than saying "reloaded" over settings it kept.
import type { Config } from './schema.js';

const RESTART_ONLY = [
  'bind',
  'https_port',
  'http_port',
  'workers',
  'max_connections',
  'listener_max_connections',
  'max_header_size',
  'timeouts',
  'log',
  'admin',
  'ring_size',
  // The client certificates' expiry warnings; the edge's own certificates are checked again at reload with the new value.
  'expiry_warning_days',
] as const satisfies readonly (keyof Config)[];

type Obj = Readonly<Record<string, unknown>>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Dotted names of the settings under `path` that differ (`admin.port`), never their values (a token is one). */
function differences(path: string, running: unknown, next: unknown): string[] {
  if (isObj(running) && isObj(next)) {
    const keys = [...new Set([...Object.keys(running), ...Object.keys(next)])];
    return keys.flatMap((k) => differences(`${path}.${k}`, running[k], next[k]));
  }
  return JSON.stringify(running) === JSON.stringify(next) ? [] : [path];
}

/** The restart-only settings in which `next` differs from the configuration the edge started with. */
export function restartOnlyChanges(running: Config, next: Config): string[] {
  return RESTART_ONLY.flatMap((key) => differences(key, running[key], next[key]));
}
