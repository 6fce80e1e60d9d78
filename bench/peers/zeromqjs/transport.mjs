// Node 20 + zeromq.js 6.8.0 side of `deno task bench:transport`.
// Usage: node transport.mjs server <endpoint> | client <endpoint> <seqCount> <pipeCount> <batch>
import * as zmq from "zeromq";

const [role, endpoint, ...rest] = process.argv.slice(2);

if (role === "server") {
  const server = new zmq.Router({ linger: 0, mandatory: true });
  await server.bind(endpoint);
  process.stdout.write("ready\n");
  process.on("SIGTERM", () => process.exit(0));
  for await (const frames of server) await server.send(frames);
} else {
  const [seqCount, pipeCount, batch] = rest.map(Number);
  const client = new zmq.Dealer({ linger: 0 });
  client.connect(endpoint);
  for (let i = 0; i < 200; i++) { // warm-up
    await client.send(["w", String(i)]);
    await client.receive();
  }
  let start = performance.now();
  for (let i = 0; i < seqCount; i++) {
    const id = String(i);
    await client.send(["s", id]);
    const [, echoed] = await client.receive();
    if (echoed.toString() !== id) throw new Error(`out of order: ${echoed} for ${id}`);
  }
  const rttUs = ((performance.now() - start) * 1000) / seqCount;
  start = performance.now();
  let expected = 0;
  for (let sent = 0; sent < pipeCount; sent += batch) {
    // zeromq.js allows one send in progress at a time.
    for (let i = 0; i < batch; i++) await client.send(["p", String(sent + i)]);
    for (let i = 0; i < batch; i++) {
      const [, echoed] = await client.receive();
      if (Number(echoed.toString()) !== expected++) throw new Error("out of order");
    }
  }
  const msgsS = pipeCount / ((performance.now() - start) / 1000);
  process.stdout.write(JSON.stringify({ rtt_us: rttUs, msgs_s: msgsS }) + "\n");
  client.close();
}
