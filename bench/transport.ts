/**
 * `deno task bench:transport`: DEALER -> ROUTER echo over TCP on loopback, pipelinin's
 * FFI transport against Node 20 + zeromq.js 6.8.0, side by side in one run.
 * (a) sequential round trip (µs) over 5,000 messages; (b) pipelined round trips per
 * second over 100,000 messages in batches of 500. Median of 3 runs, systems rotated.
 *
 * @module
 */
import { Child, freePort, machine, median, output, report } from "./_lib/process.ts";

const SEQUENTIAL = 5_000;
const PIPELINED = 100_000;
const BATCH = 500;
const RUNS = 3;

const here = new URL(".", import.meta.url).pathname;
const peerDir = `${here}peers/zeromqjs`;

interface Figures {
  rtt_us: number;
  msgs_s: number;
}

type System = { name: "deno" | "node"; command: string; script: string[] };

const systems: System[] = [
  {
    name: "deno",
    command: Deno.execPath(),
    script: ["run", "--allow-ffi", "--allow-read", "--allow-env", `${here}transport_peer.ts`],
  },
  { name: "node", command: "node", script: [`${peerDir}/transport.mjs`] },
];

async function ensureNodePeer(): Promise<void> {
  try {
    await Deno.stat(`${peerDir}/node_modules/zeromq/package.json`);
  } catch {
    await output("npm", ["ci", "--no-audit", "--no-fund"], peerDir);
  }
}

async function runOnce(system: System): Promise<Figures> {
  const endpoint = `tcp://127.0.0.1:${freePort()}`;
  await using server = new Child(`${system.name} server`, system.command, [
    ...system.script,
    "server",
    endpoint,
  ]);
  if ((await server.line()) !== "ready") throw new Error(`${system.name} server did not start`);
  await using client = new Child(`${system.name} client`, system.command, [
    ...system.script,
    "client",
    endpoint,
    String(SEQUENTIAL),
    String(PIPELINED),
    String(BATCH),
  ]);
  const figures = JSON.parse(await client.line()) as Figures;
  if ((await client.exit()) !== 0) throw new Error(`${system.name} client failed`);
  return figures;
}

await ensureNodePeer();
const results: Record<System["name"], Figures[]> = { deno: [], node: [] };
for (let run = 0; run < RUNS; run++) {
  const order = run % 2 === 0 ? systems : [...systems].reverse();
  for (const system of order) results[system.name].push(await runOnce(system));
}

const summary = (name: System["name"]) => ({
  rtt: median(results[name].map((r) => r.rtt_us)),
  rttMin: Math.min(...results[name].map((r) => r.rtt_us)),
  rttMax: Math.max(...results[name].map((r) => r.rtt_us)),
  msgs: median(results[name].map((r) => r.msgs_s)),
  msgsMin: Math.min(...results[name].map((r) => r.msgs_s)),
  msgsMax: Math.max(...results[name].map((r) => r.msgs_s)),
});
const deno = summary("deno");
const node = summary("node");
const round = (n: number, digits = 0) => Number(n.toFixed(digits));

const libzmq = await output(Deno.execPath(), [
  "eval",
  "import { loadLibzmq } from './core/zmq/mod.ts'; const l = loadLibzmq(); console.log(`libzmq ${l.version} (${l.source}: ${l.path})`)",
], `${here}..`);
const nodeVersion = await output("node", ["--version"]);
const table = [
  "| system | round trip µs (median, min–max) | pipelined msgs/s (median, min–max) |",
  "| --- | --- | --- |",
  `| pipelinin (Deno ${Deno.version.deno}, FFI, ${libzmq}) | ${round(deno.rtt)} (${
    round(deno.rttMin)
  }–${round(deno.rttMax)}) | ${round(deno.msgs)} (${round(deno.msgsMin)}–${round(deno.msgsMax)}) |`,
  `| Node ${nodeVersion} + zeromq.js 6.8.0 | ${round(node.rtt)} (${round(node.rttMin)}–${
    round(node.rttMax)
  }) | ${round(node.msgs)} (${round(node.msgsMin)}–${round(node.msgsMax)}) |`,
  `| ratio pipelinin / Node | ${round(deno.rtt / node.rtt, 2)} (lower is better) | ${
    round(deno.msgs / node.msgs, 2)
  } (higher is better) |`,
].join("\n");

const line = {
  bench: "transport",
  deno_rtt_us: round(deno.rtt, 1),
  deno_msgs_s: round(deno.msgs),
  node_rtt_us: round(node.rtt, 1),
  node_msgs_s: round(node.msgs),
  ratio_msgs: round(deno.msgs / node.msgs, 2),
};

await report(
  `${here}RESULTS.md`,
  "## Transport: DEALER -> ROUTER echo over TCP loopback",
  `Command: \`deno task bench:transport\`  
Date: ${new Date().toISOString()}  
Machine: ${await machine()}  
Workload: client and echo server in separate processes of the same runtime; (a) ${SEQUENTIAL} sequential round trips, (b) ${PIPELINED} round trips pipelined in batches of ${BATCH}; each send awaited (zeromq.js allows one send in flight). Median of ${RUNS} runs, order rotated.`,
  table,
  line,
);
