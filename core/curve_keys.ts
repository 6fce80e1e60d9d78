/**
 * CURVE keys as pipelinin keeps them: Z85 text (40 characters for 32 bytes), key pair
 * files (`deno task keygen`: JSON `{"public", "secret"}`, mode 0600), and a server's
 * public key given as itself or as a file holding it.
 *
 * @module
 */
import { curveKeyPair } from "./zmq/mod.ts";

/** A CURVE key pair as Z85 text. */
export interface CurveKeys {
  readonly publicKey: string;
  readonly secretKey: string;
}

/** What a peer needs to connect to a CURVE server: the server's public key and its own pair. */
export interface CurveClientKeys extends CurveKeys {
  /** The server's (the Router's) public key, Z85. */
  readonly serverKey: string;
}

const ALPHABET =
  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
const DIGITS = new Map([...ALPHABET].map((char, index) => [char, index]));

/** Whether `text` is a 40-character Z85 key. */
export function isZ85Key(text: string): boolean {
  return text.length === 40 && [...text].every((char) => DIGITS.has(char));
}

/** The 32 bytes of a Z85 key. @throws {TypeError} when `text` is not one. */
export function z85Decode(text: string): Uint8Array {
  if (!isZ85Key(text)) throw new TypeError(`Expected a 40-character Z85 key, got "${text}"`);
  const out = new Uint8Array(32);
  for (let block = 0; block < 8; block++) {
    let value = 0;
    for (let i = 0; i < 5; i++) value = value * 85 + DIGITS.get(text[block * 5 + i]!)!;
    if (value > 0xffffffff) throw new TypeError(`"${text}" is not a valid Z85 key`);
    for (let i = 3; i >= 0; i--) {
      out[block * 4 + i] = value & 0xff;
      value = Math.floor(value / 256);
    }
  }
  return out;
}

/** The Z85 text of 32 key bytes. */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length !== 32) throw new TypeError(`A CURVE key has 32 bytes, got ${bytes.length}`);
  let text = "";
  for (let block = 0; block < 8; block++) {
    let value = 0;
    for (let i = 0; i < 4; i++) value = value * 256 + bytes[block * 4 + i]!;
    const chars: string[] = [];
    for (let i = 0; i < 5; i++) {
      chars.unshift(ALPHABET[value % 85]!);
      value = Math.floor(value / 85);
    }
    text += chars.join("");
  }
  return text;
}

/** A new key pair. @throws {Error} when libzmq has no CURVE. */
export function newCurveKeys(): CurveKeys {
  return curveKeyPair();
}

/**
 * Writes `keys` to a new file `path` as `{"public", "secret"}` with mode 0600.
 *
 * @throws {Deno.errors.AlreadyExists} when the file exists: a key is never overwritten.
 */
export function writeKeyFile(path: string, keys: CurveKeys): void {
  const text = `${JSON.stringify({ public: keys.publicKey, secret: keys.secretKey })}\n`;
  Deno.writeTextFileSync(path, text, { createNew: true, mode: 0o600 });
  Deno.chmodSync(path, 0o600); // The umask may have narrowed it; never widened.
}

/**
 * Reads a key pair file written by `deno task keygen`.
 *
 * @throws {Error} naming the file when it is unreadable, not a key pair, or readable
 *   by others than its owner (its secret would not be one).
 */
export function readKeyFile(path: string): CurveKeys {
  const info = Deno.statSync(path);
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    throw new Error(
      `Key file "${path}" is readable by others (mode ${
        (info.mode & 0o777).toString(8)
      }): chmod 600 it`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(Deno.readTextFileSync(path));
  } catch (error) {
    throw new Error(`Key file "${path}" is not JSON: ${(error as Error).message}`);
  }
  const pair = typeof value === "object" && value !== null ? value as Record<string, unknown> : {};
  const publicKey = pair.public, secretKey = pair.secret;
  if (
    typeof publicKey !== "string" || !isZ85Key(publicKey) ||
    typeof secretKey !== "string" || !isZ85Key(secretKey)
  ) {
    throw new Error(`Key file "${path}" wants {"public": "<Z85>", "secret": "<Z85>"}`);
  }
  return { publicKey, secretKey };
}

/**
 * A key pair from `path`, made and written there (mode 0600) when the file does not
 * exist yet.
 */
export function loadOrCreateKeyFile(path: string): CurveKeys {
  try {
    return readKeyFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const keys = newCurveKeys();
  writeKeyFile(path, keys);
  return keys;
}

/**
 * A server's public key, given as the Z85 key itself or as a file holding either the
 * key as text or a key pair file (whose `public` is used).
 *
 * @throws {Error} naming the value when it is neither.
 */
export function readPublicKey(value: string): string {
  if (isZ85Key(value)) return value;
  let text: string;
  try {
    text = Deno.readTextFileSync(value).trim();
  } catch (error) {
    throw new Error(
      `"${value}" is neither a Z85 key nor a readable file: ${(error as Error).message}`,
    );
  }
  if (isZ85Key(text)) return text;
  try {
    const parsed: unknown = JSON.parse(text);
    const key = typeof parsed === "object" && parsed !== null
      ? (parsed as Record<string, unknown>).public
      : undefined;
    if (typeof key === "string" && isZ85Key(key)) return key;
  } catch { /* not JSON: the error below */ }
  throw new Error(`File "${value}" holds neither a Z85 key nor a key pair's "public"`);
}

/**
 * A peer's CURVE keys from its flags: its key pair file and the Router's public key
 * (see {@linkcode readPublicKey}); undefined when neither is given.
 *
 * @throws {Error} when only one is given, or either cannot be read.
 */
export function peerCurveKeys(
  curveKey: string | undefined,
  routerKey: string | undefined,
): CurveClientKeys | undefined {
  if (curveKey === undefined && routerKey === undefined) return undefined;
  if (curveKey === undefined || routerKey === undefined) {
    throw new Error("CURVE wants both --curve-key <file> and --router-key <key or file>");
  }
  return { ...readKeyFile(curveKey), serverKey: readPublicKey(routerKey) };
}
