/**
 * Who is connected to the Router: brokers (slots, functions, load) and pipeliners,
 * with when each was last heard from.
 *
 * @module
 */
import type { BrokerLoad, FunctionInfo, FunctionView } from "../../core/protocol/mod.ts";
import type { FunctionConfig } from "../../core/types.ts";

/** A connected broker. */
export interface BrokerEntry {
  /** Its id (also its routing id). */
  readonly id: string;
  /** Where to send its messages. */
  readonly address: Uint8Array;
  readonly host: string;
  readonly pid: number;
  /** For a worker host that takes jobs itself: the broker it belongs to. */
  readonly of?: string;
  /** Slots it has. */
  slots: number;
  /** The most jobs per slot it will queue ahead of time (it says so when it joins). */
  prefetch: number;
  /**
   * Jobs it is sent at once: its slots, plus per slot as many queued jobs as make
   * about {@linkcode PREFETCH_TARGET_MS} of work, at most `prefetch` (see `recordRun`).
   */
  capacity: number;
  /** Moving average of its jobs' run times, ms. */
  averageRunMs: number;
  /** Keys of the job attempts it is running (see `executionKey`). */
  readonly running: Set<string>;
  /** Functions it serves, by name. */
  functions: Map<string, FunctionInfo>;
  /** Its last reported load. */
  load?: BrokerLoad;
  /** Epoch ms it was last heard from. */
  lastSeen: number;
  /** Epoch ms it joined. */
  readonly since: number;
}

/** A connected pipeliner. */
export interface PipelinerEntry {
  readonly id: string;
  readonly address: Uint8Array;
  readonly host: string;
  readonly pid: number;
  /** Pipelines it drives. */
  readonly pipelines: Set<string>;
  lastSeen: number;
  readonly since: number;
}

/**
 * Work queued per slot ahead of time, ms. Short jobs are sent in batches (no idle
 * slot between them, fewer wake-ups everywhere); long ones one per slot, so they
 * spread over brokers.
 */
export const PREFETCH_TARGET_MS = 50;

/** The registry of peers. */
export class Registry {
  readonly brokers = new Map<string, BrokerEntry>();
  readonly pipeliners = new Map<string, PipelinerEntry>();
  /** Grows whenever a broker's functions (and so their configs) may have changed. */
  functionsVersion = 0;

  /** Adds or replaces a broker; returns the replaced entry, if any. */
  addBroker(
    entry: Omit<BrokerEntry, "running" | "functions" | "capacity" | "averageRunMs">,
    functions: FunctionInfo[],
  ) {
    const previous = this.brokers.get(entry.id);
    const broker: BrokerEntry = {
      ...entry,
      running: new Set(),
      functions: new Map(functions.map((f) => [f.name, f])),
      capacity: entry.slots,
      // Until it has run something, assume jobs that fill the target: one queued per slot.
      averageRunMs: PREFETCH_TARGET_MS,
    };
    this.brokers.set(entry.id, broker);
    this.functionsVersion++;
    this.#size(broker);
    return previous;
  }

  /** A broker's functions changed. */
  setFunctions(broker: BrokerEntry, functions: FunctionInfo[]): void {
    broker.functions = new Map(functions.map((f) => [f.name, f]));
    this.functionsVersion++;
  }

  /** A job ran on `broker` for `ms`: its prefetch follows its jobs' length. */
  recordRun(broker: BrokerEntry, ms: number): void {
    if (!Number.isFinite(ms)) return; // A peer's bad figure must not unbound its capacity.
    broker.averageRunMs = 0.8 * broker.averageRunMs + 0.2 * Math.max(0, ms);
    this.#size(broker);
  }

  #size(broker: BrokerEntry): void {
    const perSlot = Math.floor(PREFETCH_TARGET_MS / Math.max(broker.averageRunMs, 0.01));
    broker.capacity = broker.slots * (1 + Math.min(broker.prefetch, perSlot));
  }

  /** Adds or replaces a pipeliner; returns the replaced entry, if any. */
  addPipeliner(entry: Omit<PipelinerEntry, "pipelines">): PipelinerEntry | undefined {
    const previous = this.pipeliners.get(entry.id);
    this.pipeliners.set(entry.id, { ...entry, pipelines: new Set() });
    return previous;
  }

  /**
   * Names of functions at least one broker can run, by what the brokers announce. A
   * broker's worker hosts learn of a change after it does: counting their tables too
   * would accept a function its broker just reported removed (as `functions()` does not).
   */
  runnable(): Set<string> {
    const names = new Set<string>();
    for (const broker of this.brokers.values()) {
      if (broker.of !== undefined) continue;
      for (const fn of broker.functions.values()) if (!fn.error) names.add(fn.name);
    }
    return names;
  }

  /** The config of a function, from the first broker that can run it. */
  config(name: string): FunctionConfig | undefined {
    for (const broker of this.brokers.values()) {
      const fn = broker.functions.get(name);
      if (fn && !fn.error) return fn.config;
    }
    return undefined;
  }

  /** Every function any broker reported, with who serves it. */
  functions(): FunctionView[] {
    const views = new Map<string, FunctionView>();
    for (const broker of this.brokers.values()) {
      if (broker.of !== undefined) continue; // Its broker announces the same functions.
      for (const fn of broker.functions.values()) {
        const view = views.get(fn.name) ??
          { name: fn.name, config: fn.config, brokers: [], errors: [], conflicts: [] };
        if (fn.conflict) view.conflicts.push({ broker: broker.id, message: fn.conflict });
        if (fn.error) view.errors.push({ broker: broker.id, message: fn.error.message });
        else {
          if (view.brokers.length === 0) view.config = fn.config;
          view.brokers.push(broker.id);
        }
        views.set(fn.name, view);
      }
    }
    return [...views.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * The least busy broker with room (a free slot or prefetch, or with `freeSlot` a
   * free slot only) that can run `fn`.
   */
  pickBroker(fn: string, freeSlot = false): BrokerEntry | undefined {
    let best: BrokerEntry | undefined;
    for (const broker of this.brokers.values()) {
      const free = (freeSlot ? broker.slots : broker.capacity) - broker.running.size;
      if (free <= 0) continue;
      const info = broker.functions.get(fn);
      if (!info || info.error) continue;
      if (!best || free > best.capacity - best.running.size) best = broker;
    }
    return best;
  }

  /** Whether any broker has a free slot. */
  hasFreeSlot(): boolean {
    for (const broker of this.brokers.values()) {
      if (broker.running.size < broker.capacity) return true;
    }
    return false;
  }

  /** The pipeliner driving the fewest pipelines. */
  pickPipeliner(): PipelinerEntry | undefined {
    let best: PipelinerEntry | undefined;
    for (const p of this.pipeliners.values()) {
      if (!best || p.pipelines.size < best.pipelines.size) best = p;
    }
    return best;
  }

  /** Brokers connected, not counting their worker hosts that take jobs themselves. */
  get brokerCount(): number {
    let count = 0;
    for (const broker of this.brokers.values()) if (broker.of === undefined) count++;
    return count;
  }

  /** Peers not heard from since `before` (epoch ms). */
  silentSince(before: number): { brokers: BrokerEntry[]; pipeliners: PipelinerEntry[] } {
    return {
      brokers: [...this.brokers.values()].filter((b) => b.lastSeen < before),
      pipeliners: [...this.pipeliners.values()].filter((p) => p.lastSeen < before),
    };
  }
}
