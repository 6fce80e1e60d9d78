/**
 * Peak resident memory of process trees, sampled from /proc (Linux).
 *
 * @module
 */

function childrenMap(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry.name));
      children.set(ppid, list);
    } catch {
      // Gone meanwhile.
    }
  }
  return children;
}

function rssOf(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** Resident memory of each of `roots` and all their descendants now, bytes by pid. */
export function treeRssByPid(roots: readonly number[]): Map<number, number> {
  const children = childrenMap();
  const byPid = new Map<number, number>();
  const stack = [...roots];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (byPid.has(pid)) continue;
    byPid.set(pid, rssOf(pid));
    stack.push(...(children.get(pid) ?? []));
  }
  return byPid;
}

/** Resident memory of `roots` and all their descendants now, bytes. */
export function treeRss(roots: readonly number[]): number {
  let total = 0;
  for (const rss of treeRssByPid(roots).values()) total += rss;
  return total;
}

/** Samples `treeRss(roots())` every `ms` until stopped; `peak` is the largest seen. */
export class RssSampler {
  peak = 0;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(roots: () => readonly number[], ms = 250) {
    const sample = () => {
      this.peak = Math.max(this.peak, treeRss(roots()));
    };
    sample();
    this.#timer = setInterval(sample, ms);
  }

  /** Stops sampling; returns the peak, bytes. */
  stop(): number {
    clearInterval(this.#timer);
    return this.peak;
  }
}
