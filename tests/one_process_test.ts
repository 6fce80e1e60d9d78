/**
 * `deno task start`'s cluster: the Router, a Pipeliner and the Broker in one process
 * (`main.ts`), its worker hosts apart. Pipelines run end to end, the three daemons
 * talk inproc (the only TCP connections to the Router are the hosts' and the
 * client's), and stopping it stops every process it started.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";

const WAIT = { timeoutMs: 30_000 };

/** TCP connections in state ESTABLISHED with `port` at either end, both ends counted. */
function establishedOn(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  let count = 0;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let table = "";
    try {
      table = Deno.readTextFileSync(file);
    } catch {
      continue;
    }
    for (const line of table.split("\n").slice(1)) {
      const [, local, remote, state] = line.trim().split(/\s+/);
      if (state === "01" && (local?.endsWith(hex) || remote?.endsWith(hex))) count++;
    }
  }
  return count;
}

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

interface BrokerView {
  pid: number;
  hosts?: Array<{ pid: number }>;
}

Deno.test("deno task start's one process runs pipelines through in-process daemons and leaves no process when stopped", async () => {
  let pids: number[] = [];
  {
    await using cluster = await Cluster.start({ oneProcess: true, waitFor: ["ok"] });
    const singles = Array.from(
      { length: 50 },
      (_, n) => cluster.manager.run({ graph: { ok: [] }, data: { n } }, WAIT),
    );
    const chains = Array.from({ length: 20 }, async (_, n) => {
      const chain = {
        graph: { a: ["b"], b: ["c"] },
        jobs: { a: "ok", b: "ok", c: "ok" },
        data: { n },
      };
      return await cluster.manager.wait(await cluster.manager.start(chain), WAIT);
    });
    const results = await Promise.all([...singles, ...chains]);
    results.slice(0, 50).forEach((result, n) => {
      assertEquals([result.status, result.document.n], ["succeeded", n + 1], cluster.logs());
    });
    results.slice(50).forEach((result, n) => {
      assertEquals([result.status, result.document.n], ["succeeded", n + 3], cluster.logs());
    });

    const { brokers } = await (await fetch(`${cluster.http}/brokers`)).json() as {
      brokers: BrokerView[];
    };
    assertEquals(brokers.map((b) => b.pid), [cluster.router.pid], "the broker is in main.ts");
    const hosts = (brokers[0]?.hosts ?? []).map((h) => h.pid);
    assertEquals(hosts.length, 2, "two worker hosts");
    assert(hosts.every((pid) => pid !== cluster.router.pid), "hosts are processes of their own");
    pids = [cluster.router.pid, ...hosts];
    if (Deno.build.os === "linux") {
      const port = Number(cluster.api.slice(cluster.api.lastIndexOf(":") + 1));
      // Both ends of each connection: the two hosts and the test's client, no more.
      assertEquals(establishedOn(port), 2 * (hosts.length + 1), cluster.logs());
    }

    const status = await cluster.router.stop();
    assertEquals(status.code, 0, cluster.logs());
    const output = cluster.router.output;
    const order = ["Broker stopped", "Pipeliner stopped", "Router stopped"].map((line) =>
      output.indexOf(line)
    );
    assert(order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]!)), output);
  }
  const deadline = Date.now() + 5000;
  while (pids.some(alive) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assertEquals(pids.filter(alive), [], "every process it started has ended");
});
