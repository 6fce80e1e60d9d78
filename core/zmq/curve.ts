/**
 * CURVE key pairs (Z85 text), for encrypted, authenticated connections.
 *
 * @module
 */
import { loadLibzmq } from "./loader.ts";

/** A CURVE key pair as 40-character Z85 strings. */
export interface CurveKeyPair {
  /** Give to clients as `curveServerKey`, or use as `curvePublicKey`. */
  readonly publicKey: string;
  /** Keep secret: `curveSecretKey`. */
  readonly secretKey: string;
}

/**
 * Makes a new CURVE key pair.
 *
 * @throws {Error} when the loaded libzmq was built without CURVE.
 */
export function curveKeyPair(): CurveKeyPair {
  const lib = loadLibzmq();
  const keypair = lib.symbols.zmq_curve_keypair;
  if (!lib.curve || !keypair) {
    throw new Error(`The libzmq at "${lib.path}" was built without CURVE support`);
  }
  const publicKey = new Uint8Array(41), secretKey = new Uint8Array(41);
  if (keypair(publicKey, secretKey) !== 0) throw new Error("zmq_curve_keypair failed");
  const text = (z85: Uint8Array) => new TextDecoder().decode(z85.subarray(0, 40));
  return { publicKey: text(publicKey), secretKey: text(secretKey) };
}
