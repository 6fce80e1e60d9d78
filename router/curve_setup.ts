/**
 * When a Router runs CURVE, and with which keys: as soon as it has an allow-list, a
 * key of its own, or an HTTP token (so that a token never guards HTTP alone). Its key
 * pair comes from `--curve-key`, or from `<data dir>/router.key`, made there at the
 * first start.
 *
 * @module
 */
import { join } from "node:path";
import { type CurveKeys, loadOrCreateKeyFile, readKeyFile } from "../core/curve_keys.ts";
import type { AllowEntry } from "./zmq_front/allow_list.ts";

/** A Router's CURVE settings. */
export interface RouterCurve {
  /** The Router's key pair: peers connect with its public key. */
  keys: CurveKeys;
  /** The allow-list file, read again whenever it changes. */
  allowFile?: string;
  /** Keys let in besides the file's: those the Router's program handed out itself. */
  peers?: readonly AllowEntry[];
}

/** What decides {@linkcode routerCurve}. */
export interface CurveInputs {
  dataDir: string;
  /** `--curve-key`: the Router's key pair file. */
  curveKey?: string;
  /** `--allow`: the allow-list file. */
  allow?: string;
  /** Whether `PIPELININ_TOKEN` is set. */
  token: boolean;
  /** Keys the program hands its own daemons. */
  peers?: readonly AllowEntry[];
}

/**
 * The CURVE settings these inputs call for, or undefined for plain ZeroMQ.
 *
 * @throws {Error} naming the key file when it cannot be read or made.
 */
export function routerCurve(inputs: CurveInputs): RouterCurve | undefined {
  const on = inputs.allow !== undefined || inputs.curveKey !== undefined || inputs.token;
  if (!on) return undefined;
  let keys: CurveKeys;
  if (inputs.curveKey !== undefined) {
    keys = readKeyFile(inputs.curveKey);
  } else {
    Deno.mkdirSync(inputs.dataDir, { recursive: true });
    keys = loadOrCreateKeyFile(join(inputs.dataDir, "router.key"));
  }
  return {
    keys,
    ...(inputs.allow === undefined ? {} : { allowFile: inputs.allow }),
    ...(inputs.peers ? { peers: inputs.peers } : {}),
  };
}
