/**
 * Hostile peers on hosts of their own (`tests/_netns.ts`), each joining a Router on
 * CURVE as a broker for a few seconds while a real client submits pipelines: one
 * with no key (plain ZeroMQ), one with a key not on the allow-list, and one with a
 * `client` key that sends `broker-hello` and heartbeats. None is handed a job, a
 * document or the configuration; every pipeline ends right on the real broker.
 * The attacker is `tests/fixtures/netns_attacker.ts`.
 */
import { assertEquals } from "./_assert.ts";
import { netnsSkip, Network } from "./_netns.ts";
import { brokerOf, endpoints, HostCluster } from "./_netns_cluster.ts";
import type { Daemon } from "./_cluster.ts";
import type { PipelineSpec } from "../mod.ts";

const ATTACK_MS = 5000;

/** What the attacker printed it got, once it ended. */
async function received(attacker: Daemon): Promise<Array<Record<string, unknown>>> {
  await attacker.status;
  const lines = attacker.output.split("\n").filter((line) => line.startsWith("{"));
  const messages = lines.map((line) => JSON.parse(line));
  assertEquals(messages.at(-1), { done: true }, attacker.output);
  return messages.slice(0, -1);
}

Deno.test({
  name:
    "from hosts of their own, a peer with no key, an unknown key or a client key posing as a broker is handed nothing",
  ignore: netnsSkip !== undefined,
  async fn() {
    await using net = await Network.create({
      hosts: ["router", "broker1", "pipeliner", "client", "plain", "stranger", "posing"],
    });
    await using cluster = await HostCluster.start(net, {
      brokers: ["broker1"],
      pipeliner: "pipeliner",
      waitFor: ["tag"],
    });
    const keys = cluster.deployment.keys!;
    const api = endpoints(net, "router").api;
    const attack = (host: string, key?: string) =>
      net.spawn(host, `attacker-${host}`, [
        "run",
        "--allow-ffi",
        "--allow-read",
        "--allow-env",
        "tests/fixtures/netns_attacker.ts",
        api,
        String(ATTACK_MS),
        ...(key ? [key, keys.router.keys.publicKey] : []),
      ]);
    const plain = attack("plain");
    const stranger = attack("stranger", keys.make("stranger").file);
    const posing = attack("posing", keys.client.file);

    // While they try: diamonds (a pipeliner's work) and single jobs.
    const ids = await cluster.client.submit(
      Array.from({ length: 30 }, (_, n): PipelineSpec =>
        n % 2 === 0
          ? {
            graph: { a: ["b", "c"], b: "d", c: "d" },
            jobs: { a: "tag", b: "tag", c: "tag", d: "tag" },
            data: { n },
          }
          : { graph: { ok: [] }, data: { n } }),
    );
    const records = await cluster.client.wait(ids);
    records.forEach((record, n) => {
      assertEquals(record.status, "succeeded", `${JSON.stringify(record)}\n${net.logs()}`);
      assertEquals(record.document.n, n % 2 === 0 ? n : n + 1);
      for (const job of record.jobs) assertEquals(brokerOf(job), "broker1", JSON.stringify(job));
    });

    assertEquals(await received(plain), [], "the peer with no key got something");
    assertEquals(await received(stranger), [], "the peer with an unknown key got something");
    // The client key is heard, and refused: one reply to its hello, nothing else.
    const got = await received(posing);
    assertEquals(
      got.map((m) => [m.type, m.id, m.ok, (m.error as Record<string, unknown> | undefined)?.name]),
      [["reply", "hello-1", false, "ForbiddenError"]],
      JSON.stringify(got),
    );
    assertEquals(await cluster.copiesOnBrokers(), []);
  },
});
