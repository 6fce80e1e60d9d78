/**
 * Test and benchmark helper: free TCP ports on 127.0.0.1 for daemons to bind.
 *
 * @module
 */

/**
 * Ports in the range handed out that Chromium refuses to load (`ERR_UNSAFE_PORT`, its
 * restricted-ports list), so a dashboard test never gets one.
 */
const BROWSER_UNSAFE = new Set([10080]);

/** Ports this process handed out: never twice. */
const handedOut = new Set<number>();

/**
 * A free TCP port on 127.0.0.1, for a daemon to bind a moment later. Picked below
 * the kernel's range for the local ports of outgoing connections: a port from that
 * range (as `port: 0` gives) could be taken meanwhile by any connection's local end,
 * and the daemon's bind then failed with EADDRINUSE, now and then.
 */
export function freePort(): number {
  const below = ephemeralLow();
  for (let tries = 0; below > 11_000 && tries < 1_000; tries++) {
    const port = 10_000 + Math.floor(Math.random() * (below - 10_000));
    if (handedOut.has(port) || BROWSER_UNSAFE.has(port)) continue;
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
    } catch {
      continue; // In use.
    }
    handedOut.add(port);
    return port;
  }
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** The lowest port the kernel gives to outgoing connections (Linux; 32768 elsewhere). */
function ephemeralLow(): number {
  try {
    const range = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range");
    return Number(range.trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
}
