// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, top N.
// Usage: node dist-bench/bench/cpuProfile.js <file.cpuprofile> [N]
import { readFileSync } from 'node:fs';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; hitCount?: number }
interface CpuProfile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

export interface FrameTime {
  readonly frame: string;
  readonly selfMs: number;
  readonly percent: number;
}

function shortUrl(url: string): string {
  if (!url) return '';
  const m = /\/(node_modules\/.+|src\/.+|dist\/.+)$/.exec(url);
  return (m ? m[1] : url.replace(/^node:/, 'node:')).replace(/^dist\//, '');
}

/** Self time per function; percentages are of the busy time (all samples except `(idle)`). */
export function summariseCpuProfile(file: string, top = 15): { totalMs: number; busyMs: number; frames: FrameTime[] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]!);
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    if (!n) continue;
    const cf = n.callFrame;
    const name = cf.functionName || '(anonymous)';
    const where = shortUrl(cf.url);
    const key = where ? `${name} ${where}:${cf.lineNumber + 1}` : name;
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  const busy = total - (self.get('(idle)') ?? 0);
  self.delete('(idle)');
  const frames = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([frame, ms]) => ({ frame, selfMs: ms, percent: busy ? (100 * ms) / busy : 0 }));
  return { totalMs: total, busyMs: busy, frames };
}

if (process.argv[1] && /cpuProfile\.js$/.test(process.argv[1]) && process.argv[2]) {
  const { totalMs, busyMs, frames } = summariseCpuProfile(process.argv[2], Number(process.argv[3] ?? 20));
  console.log(`total ${totalMs.toFixed(0)} ms sampled, ${busyMs.toFixed(0)} ms busy (percentages of busy time)`);
  for (const f of frames) console.log(`${f.percent.toFixed(1).padStart(5)}%  ${f.selfMs.toFixed(0).padStart(6)} ms  ${f.frame}`);
}
