/**
 * The pipelinin side of `deno task bench:transport`, run as its own process.
 * Usage: `transport_peer.ts server <endpoint>` or
 * `transport_peer.ts client <endpoint> <seqCount> <pipeCount> <batch>`.
 *
 * @module
 */
import { Context } from "../core/zmq/mod.ts";

const [role, endpoint, ...rest] = Deno.args;
const ctx = new Context();
const decoder = new TextDecoder();

if (role === "server") {
  const server = ctx.socket("router", { linger: 0 });
  server.bind(endpoint!);
  await Deno.stdout.write(new TextEncoder().encode("ready\n"));
  Deno.addSignalListener("SIGTERM", () => ctx.close().then(() => Deno.exit(0)));
  for await (const frames of server) await server.send(frames);
} else {
  const [seqCount, pipeCount, batch] = rest.map(Number) as [number, number, number];
  const client = ctx.socket("dealer", { linger: 0 });
  client.connect(endpoint!);
  for (let i = 0; i < 200; i++) { // warm-up
    await client.send(["w", String(i)]);
    await client.receive();
  }
  let start = performance.now();
  for (let i = 0; i < seqCount; i++) {
    const id = String(i);
    await client.send(["s", id]);
    const [, echoed] = await client.receive();
    if (decoder.decode(echoed) !== id) throw new Error(`out of order: ${echoed} for ${id}`);
  }
  const rttUs = ((performance.now() - start) * 1000) / seqCount;
  start = performance.now();
  let expected = 0;
  for (let sent = 0; sent < pipeCount; sent += batch) {
    for (let i = 0; i < batch; i++) await client.send(["p", String(sent + i)]);
    for (let i = 0; i < batch; i++) {
      const [, echoed] = await client.receive();
      if (Number(decoder.decode(echoed)) !== expected++) throw new Error("out of order");
    }
  }
  const msgsS = pipeCount / ((performance.now() - start) / 1000);
  await Deno.stdout.write(
    new TextEncoder().encode(JSON.stringify({ rtt_us: rttUs, msgs_s: msgsS }) + "\n"),
  );
  await ctx.close();
}
