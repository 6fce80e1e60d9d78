/**
 * The Deno permission flags of every program that runs a daemon, from the one source
 * each daemon keeps in its folder (`router/deno_flags.ts`, `broker/deno_flags.ts`,
 * `pipeliner/deno_flags.ts`). `deno task start` (`main.ts`) runs all three in one
 * process, so it gets their union. Tests spawn daemons with these; `deno_tasks.ts`
 * writes them into `deno.json`'s `start*` tasks.
 *
 * Memory: `deno task start` runs with {@linkcode CLUSTER_V8_FLAGS}, given through
 * `DENO_V8_FLAGS` so that the worker hosts it spawns (which inherit its environment)
 * run with them too.
 *
 * @module
 */
import { BROKER_FLAGS } from "./broker/deno_flags.ts";
import { PIPELINER_FLAGS } from "./pipeliner/deno_flags.ts";
import { ROUTER_FLAGS } from "./router/deno_flags.ts";

/**
 * The union of permission flag lists: an `--allow-x` granted in full by one list
 * covers every scoped `--allow-x=...` of another; scopes of the same kind are joined.
 * Other flags are kept once each, in order.
 */
export function unionFlags(...lists: ReadonlyArray<readonly string[]>): string[] {
  const scopes = new Map<string, Set<string> | "all">();
  const others: string[] = [];
  for (const flag of lists.flat()) {
    const match = /^(--allow-[a-z-]+)(?:=(.*))?$/.exec(flag);
    if (!match) {
      if (!others.includes(flag)) others.push(flag);
      continue;
    }
    const [, kind, scope] = match;
    const known = scopes.get(kind!);
    if (scope === undefined) scopes.set(kind!, "all");
    else if (known !== "all") scopes.set(kind!, new Set([...(known ?? []), ...scope.split(",")]));
  }
  const allows = [...scopes].map(([kind, scope]) =>
    scope === "all" ? kind : `${kind}=${[...scope].join(",")}`
  );
  return [...allows, ...others];
}

/** Each daemon's flags, as it runs alone. */
export const DAEMON_FLAGS = {
  router: ROUTER_FLAGS,
  broker: BROKER_FLAGS,
  pipeliner: PIPELINER_FLAGS,
} as const;

/**
 * V8 flags of `main.ts`'s process alone (its worker hosts keep their own), on its
 * command line. Without them V8 sizes the heap for this machine's memory (a 4 GiB
 * cap here) and so lets the old generation grow to up to 4 times what survived the
 * last full collection before it collects again; the Router's jobs in flight (a
 * burst of 2,000 single jobs) outlive the 2 MiB nursery, and the old generation
 * filled up with them once they were done: 36 MiB used at the peak, 9 MiB after a
 * forced full collection. Growing it by at most half keeps it near what is alive
 * (bench/RESULTS.md, _Memory_). The hosts are capped (`--max-old-space-size`), which
 * already holds their factor to at most 1.3.
 */
export const MAIN_V8_FLAGS: readonly string[] = ["--heap-growing-percent=50"];

/** `main.ts`'s flags (the Router, a Pipeliner and a Broker in one process), given the broker's. */
export function clusterFlags(broker: readonly string[] = BROKER_FLAGS): string[] {
  return [
    ...unionFlags(ROUTER_FLAGS, PIPELINER_FLAGS, broker),
    `--v8-flags=${MAIN_V8_FLAGS.join(",")}`,
  ];
}

/** `main.ts`'s flags in this process's environment. */
export const CLUSTER_FLAGS: readonly string[] = clusterFlags();

/**
 * V8 flags of `deno task start`'s process and its worker hosts. A young generation of
 * at most 2 MiB per semi-space (V8's default grows it to 16 MiB) keeps each isolate
 * from holding tens of MiB of nursery that a job's short-lived objects never need; jobs
 * ran as fast with it (bench/RESULTS.md, _Memory_).
 */
export const CLUSTER_V8_FLAGS: readonly string[] = ["--max-semi-space-size=2"];

/** The environment `deno task start` runs in: {@linkcode CLUSTER_V8_FLAGS} for it and its hosts. */
export function clusterEnv(): Record<string, string> {
  return { DENO_V8_FLAGS: CLUSTER_V8_FLAGS.join(",") };
}
