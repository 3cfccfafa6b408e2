// Loaded into a bench target with `--import` (bench/alone.ts --alloc DIR): V8's sampling heap
// profiler, counting also what the garbage collector has already freed, so the profile shows where
// the allocation goes rather than what is still alive. Written to ALLOC_PROFILE_DIR at exit.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env['ALLOC_PROFILE_DIR'];
if (dir) {
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
  // An in-process session answers synchronously, so the profile is written before the exit.
  process.on('exit', () => {
    session.post('HeapProfiler.stopSampling', (err, r) => {
      if (!err) writeFileSync(join(dir, `alloc-${process.pid}.heapprofile`), JSON.stringify(r.profile));
    });
  });
}
