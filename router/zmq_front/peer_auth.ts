/**
 * Which messages a Router on CURVE handles from whom: each key's role allows some
 * message types, and a routing id a broker, host or pipeliner joined with belongs
 * to its key from then on. Every message is checked with map lookups by its
 * connection's User-Id (see `keyring.ts`) and routing id, and nothing is parsed for it.
 *
 * @module
 */
import type { Request, RouterEvent } from "../../core/protocol/mod.ts";
import type { PeerRole } from "./allow_list.ts";
import type { Keyring } from "./keyring.ts";

type MessageType = (Request | RouterEvent)["type"];

/** What each role may send; a type left out is refused. */
const ALLOWED: Readonly<Record<PeerRole, ReadonlySet<MessageType>>> = {
  client: new Set<MessageType>([
    "submit",
    "status",
    "wait",
    "cancel",
    "signal",
    "list-functions",
    "get-configuration",
    "create-schedule",
    "put-schedule",
    "get-schedule",
    "list-schedules",
    "delete-schedule",
  ]),
  broker: new Set<MessageType>([
    "broker-hello",
    "broker-status",
    "broker-functions",
    "job-done",
    "host-lost",
    // The Router's shipped functions: a broker fetches the files of a manifest it was sent.
    "fetch-file",
    "goodbye",
    "list-functions",
    "get-configuration",
  ]),
  pipeliner: new Set<MessageType>([
    "pipeliner-hello",
    "pipeliner-status",
    "job-request",
    "pipeline-finish",
    "goodbye",
    "list-functions",
    "get-configuration",
  ]),
};

/** Why a message was refused; `stolen` names the routing id another key joined with. */
export interface Refusal {
  readonly reason: string;
  readonly stolen?: string;
}

const encoder = new TextEncoder();

/** A routing id's text as the front keys peers (one character per byte). */
function keyOf(text: string): string {
  return String.fromCharCode(...encoder.encode(text));
}

/** Roles and routing-id ownership, by User-Id. */
export class PeerAuth {
  readonly #keyring: Keyring;
  /** The User-Id each routing id (one character per byte) joined with. */
  readonly #owners = new Map<string, string>();

  constructor(keyring: Keyring) {
    this.#keyring = keyring;
  }

  /**
   * Why the message from routing id `peer` over a connection with `userId` must not
   * be handled, or undefined when it may. An empty `userId` is the Router's own
   * process (inproc, where libzmq runs no security mechanism): always allowed.
   */
  refuse(userId: string, peer: string, message: Request | RouterEvent): Refusal | undefined {
    if (userId === "") return undefined;
    const role = this.#keyring.role(userId);
    if (role === undefined) return { reason: "its key is no longer allowed" };
    if (!ALLOWED[role].has(message.type)) {
      return { reason: `a ${role} key may not send "${message.type}"` };
    }
    const owner = this.#owners.get(peer);
    if (owner !== undefined && owner !== userId) {
      // libzmq gives a routing id to one connection at a time: its owner's is gone.
      return { reason: "its routing id belongs to another key", stolen: peer };
    }
    if (message.type === "broker-hello" || message.type === "pipeliner-hello") {
      const of = message.type === "broker-hello" ? message.broker.of : undefined;
      return this.#claim(userId, peer, typeof of === "string" ? of : undefined);
    }
    return undefined;
  }

  /**
   * A hello claims its routing id for its key. A worker host's id is `<broker>/...`
   * and its broker's id must be its key's too; so must the part before a `/` of any
   * id, so no other key can join as one of a broker's hosts.
   */
  #claim(userId: string, peer: string, of: string | undefined): Refusal | undefined {
    const slash = peer.indexOf("/");
    if (of !== undefined && (slash < 0 || peer.slice(0, slash) !== keyOf(of))) {
      return { reason: `a worker host's id must start with its broker's, "${of}/"` };
    }
    if (slash > 0) {
      const parent = peer.slice(0, slash);
      const owner = this.#owners.get(parent);
      if (owner !== undefined && owner !== userId) {
        return { reason: `"${parent}" belongs to another key` };
      }
      this.#owners.set(parent, userId);
    }
    this.#owners.set(peer, userId);
    return undefined;
  }

  /** Forgets what `userIds` owned; returns those routing ids. */
  forget(userIds: ReadonlySet<string>): string[] {
    const ids: string[] = [];
    for (const [peer, owner] of this.#owners) {
      if (!userIds.has(owner)) continue;
      this.#owners.delete(peer);
      ids.push(peer);
    }
    return ids;
  }
}
