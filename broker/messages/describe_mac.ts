/**
 * Signs and checks a worker host's descriptions of function modules (see
 * `DescribedMessage`): HMAC-SHA-256 under a key the host makes at start.
 *
 * @module
 */

const ALGORITHM = { name: "HMAC", hash: "SHA-256" } as const;
const encoder = new TextEncoder();

/** A new signing key, and its raw bytes in base64 for the host's `ready`. */
export async function newDescribeKey(): Promise<{ key: CryptoKey; base64: string }> {
  const raw = crypto.getRandomValues(new Uint8Array(32));
  const key = await crypto.subtle.importKey("raw", raw, ALGORITHM, false, ["sign"]);
  return { key, base64: toBase64(raw) };
}

/** The checking side of a key sent as base64. */
export function importDescribeKey(base64: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", fromBase64(base64), ALGORITHM, false, ["verify"]);
}

/** The MAC (base64) of describe reply `id` with `body`. */
export async function signDescription(key: CryptoKey, id: number, body: string): Promise<string> {
  const mac = await crypto.subtle.sign(ALGORITHM, key, encoder.encode(`${id}\n${body}`));
  return toBase64(new Uint8Array(mac));
}

/** Whether `mac` is the MAC of describe reply `id` with `body`. */
export function verifyDescription(
  key: CryptoKey,
  id: number,
  body: string,
  mac: string,
): Promise<boolean> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = fromBase64(mac);
  } catch {
    return Promise.resolve(false);
  }
  return crypto.subtle.verify(ALGORITHM, key, bytes, encoder.encode(`${id}\n${body}`));
}

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}
