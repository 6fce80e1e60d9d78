/**
 * The slots of one worker host share its fate: an out-of-memory in one ends them all,
 * and the Router cannot tell whose it was. A job whose last attempt died that way
 * comes back marked `alone`; the gate has it wait until no other slot of the host runs
 * anything, and holds the others while it runs, so that a crash then is its own.
 *
 * @module
 */

/** A slot's side of the gate. */
export interface GateMember {
  /** Whether a run of this slot is on a worker, or loading one. */
  busy(): boolean;
  /** Look again whether a run may start. */
  wake(): void;
}

/** Who may start a run, among the slots of one host. */
export class SlotGate {
  readonly #members = new Set<GateMember>();
  /** The slot that runs a job alone, or waits for the others to finish so it can. */
  #holder: GateMember | undefined;

  /** Slots of the host. */
  get slots(): number {
    return this.#members.size;
  }

  /** Adds a slot. */
  join(member: GateMember): void {
    this.#members.add(member);
  }

  /** Whether `member` may start a run now; one `alone` also holds the others. */
  mayStart(member: GateMember, alone: boolean): boolean {
    if (this.#holder !== undefined && this.#holder !== member) return false;
    if (!alone) return true;
    this.#holder = member;
    for (const other of this.#members) {
      if (other !== member && other.busy()) return false;
    }
    return true;
  }

  /** Whether `member` holds the others. */
  holds(member: GateMember): boolean {
    return this.#holder === member;
  }

  /** `member` no longer needs to be alone: the others go on. */
  release(member: GateMember): void {
    if (this.#holder !== member) return;
    this.#holder = undefined;
    for (const other of this.#members) if (other !== member) other.wake();
  }

  /** A run of some slot ended: a holder waiting for the others may start now. */
  changed(): void {
    this.#holder?.wake();
  }
}
