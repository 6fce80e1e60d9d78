/**
 * What crosses the wire between separate hosts (`tests/_netns.ts`): with CURVE, a
 * capture of the bridge during a run sees the Router's traffic with every broker, the
 * pipeliner and the client, but not one copy of a marker that the pipelines' data and
 * outputs carry. The same capture of a Router started `--insecure` shows the marker,
 * so the first check can fail.
 */
import { assert, assertEquals } from "./_assert.ts";
import { netnsSkip, Network } from "./_netns.ts";
import { HostCluster } from "./_netns_cluster.ts";
import { folder } from "./_sandbox.ts";
import { report } from "./_netns_work.ts";

const HOSTS = ["router", "broker1", "broker2", "pipeliner", "client"];
const BROKERS = ["broker1", "broker2"];

/** Copies the marker it is given into its output, under its own job id. */
const COPY =
  `export default (input, ctx) => ({ [ctx.jobId]: String(input.marker) + "/" + ctx.jobId });
`;

/** Payload bytes tcpdump saw from `from` to `to` (host addresses; `port` on either side). */
function bytesBetween(dump: string, from: string, to: string, port: number): number {
  const e = (text: string) => text.replaceAll(".", "\\.");
  const pattern = new RegExp(
    `IP ${e(from)}\\.(\\d+) > ${e(to)}\\.(\\d+):.* length (\\d+)`,
    "g",
  );
  let bytes = 0;
  for (const [, source, target, length] of dump.matchAll(pattern)) {
    if (Number(source) === port || Number(target) === port) bytes += Number(length);
  }
  return bytes;
}

/** Runs marked pipelines on a cluster (CURVE unless `insecure`) while the bridge is captured. */
async function capturedRun(net: Network, marker: string, insecure: boolean) {
  await using functions = await folder({ "copy.ts": COPY });
  await using cluster = await HostCluster.start(net, {
    brokers: BROKERS,
    pipeliner: "pipeliner",
    functionsDir: functions.path,
    waitFor: ["copy"],
    insecure,
  });
  const capture = await net.capture();
  let dump = "";
  try {
    const ids = await cluster.client.submit(Array.from({ length: 20 }, (_, n) => ({
      graph: { a: ["b", "c"] },
      jobs: { a: "copy", b: "copy", c: "copy" },
      data: { marker, n },
    })));
    const records = await cluster.client.wait(ids);
    for (const record of records) {
      assertEquals(record.status, "succeeded", `${JSON.stringify(record)}\n${net.logs()}`);
      assertEquals(record.document.b, `${marker}/b`);
    }
  } finally {
    dump = await capture.stop();
  }
  assertEquals(await cluster.copiesOnBrokers(), []);
  const router = net.address("router");
  const seen = Object.fromEntries(
    [...BROKERS, "pipeliner", "client"].map((host) => {
      const there = net.address(host);
      return [host, [
        bytesBetween(dump, there, router, 5555),
        bytesBetween(dump, router, there, 5555),
      ]];
    }),
  );
  return { dump, seen, found: dump.split(marker).length - 1 };
}

Deno.test({
  name:
    "on CURVE no byte of a run's data crosses the bridge readable; with --insecure the same capture shows it",
  ignore: netnsSkip !== undefined,
  async fn() {
    await using net = await Network.create({ hosts: HOSTS });
    const marker = `marker-${crypto.randomUUID()}`;

    const curve = await capturedRun(net, marker, false);
    for (const [host, [sent, received]] of Object.entries(curve.seen)) {
      // Each peer talked with the Router's port both ways during the run.
      assert(sent! > 0 && received! > 0, `no traffic of ${host} seen\n${curve.dump.slice(-3000)}`);
    }
    assertEquals(curve.found, 0, "the marker crossed the bridge readable on CURVE");

    const plain = await capturedRun(net, marker, true);
    assert(
      plain.found > 0,
      `the capture missed the marker in plain text\n${plain.dump.slice(-3000)}`,
    );
    report(
      `wire: bytes to/from the Router's port per peer on CURVE ${JSON.stringify(curve.seen)}; ` +
        `the marker seen 0 times on CURVE, ${plain.found} times with --insecure`,
    );
  },
});
