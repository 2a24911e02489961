import { stat } from 'node:fs/promises';

/** How often watched files are looked at: a change is acted on within twice this. */
export const FILE_POLL_MS = 1_000;

/**
 * Calls `changed` when any of `paths` changes (written, replaced by a rename, a symlink on its way
 * swapped, removed). Polled with stat, which follows symlinks, rather than watched: fs.watch loses a
 * file replaced under it, the way Kubernetes Secrets and cert-manager replace them. One look at a
 * time; the timer does not keep the process alive. Returns the stop function.
 */
export async function watchFileChanges(paths: readonly string[], changed: () => void, everyMs = FILE_POLL_MS): Promise<() => void> {
  let seen = await look(paths);
  let looking = false;
  const timer = setInterval(() => {
    if (looking) return;
    looking = true;
    void look(paths)
      .then((now) => {
        if (now === seen) return;
        seen = now;
        changed();
      })
      .finally(() => (looking = false));
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Inode, size and times of each file ('' for one missing, as mid-swap). */
async function look(paths: readonly string[]): Promise<string> {
  const each = await Promise.all(
    paths.map((path) =>
      stat(path).then(
        (file) => `${file.ino}:${file.size}:${file.mtimeMs}:${file.ctimeMs}`,
        () => '',
      ),
    ),
  );
  return each.join('|');
}
