// Watches the files a configuration was read from and calls back once per burst of changes.
// Directories are watched rather than files, because editors and `certs init --force` replace files
// by rename, which a watch on the old inode would miss.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function watchFiles(files: readonly string[], onChange: (changed: string[]) => void, debounceMs = 200): () => void {
  const byDir = new Map<string, Set<string>>();
  for (const f of files) {
    const dir = dirname(f);
    if (!byDir.has(dir)) byDir.set(dir, new Set());
    byDir.get(dir)!.add(basename(f));
  }
  const watchers: FSWatcher[] = [];
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | null = null;
  for (const [dir, names] of byDir) {
    try {
      const w = watch(dir, { persistent: false }, (_event, name) => {
        if (!name || !names.has(name.toString())) return;
        pending.add(join(dir, name.toString()));
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => {
          timer = null;
          const changed = [...pending];
          pending.clear();
          onChange(changed);
        }, debounceMs);
      });
      w.on('error', () => w.close());
      watchers.push(w);
    } catch {
      // A folder that vanished cannot be watched; SIGHUP still reloads.
    }
  }
  return () => {
    if (timer) clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
