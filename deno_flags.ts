/**
 * The Deno permission flags of every program that runs a daemon, from the one source
 * each daemon keeps in its folder (`router/deno_flags.ts`, `broker/deno_flags.ts`,
 * `pipeliner/deno_flags.ts`). `deno task start` (`main.ts`) runs all three in one
 * process, so it gets their union. Tests spawn daemons with these; `deno_tasks.ts`
 * writes them into `deno.json`'s `start*` tasks.
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

/** `main.ts`'s flags (the Router, a Pipeliner and a Broker in one process), given the broker's. */
export function clusterFlags(broker: readonly string[] = BROKER_FLAGS): string[] {
  return unionFlags(ROUTER_FLAGS, PIPELINER_FLAGS, broker);
}

/** `main.ts`'s flags in this process's environment. */
export const CLUSTER_FLAGS: readonly string[] = clusterFlags();
