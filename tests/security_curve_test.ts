/**
 * A Router on CURVE with an allow-list, against hostile peers that speak the real
 * protocol: no key, an unknown key, a client key posing as a broker or a pipeliner,
 * and a second broker's key claiming the first broker's worker host.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { delay, until, withContext } from "./_helpers.ts";
import { folder } from "./_sandbox.ts";
import { Job, Pipeline, PipelineManager } from "../mod.ts";
import { PROTOCOL } from "../core/protocol/mod.ts";
import type { CurveKeys } from "../core/curve_keys.ts";
import { newCurveKeys, peerCurveKeys } from "../core/curve_keys.ts";
import type { Context, Socket } from "../core/zmq/mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
type Message = Record<string, unknown>;

/** A hostile DEALER: sends protocol messages, keeps every message it gets. */
class Peer {
  readonly socket: Socket;
  readonly received: Message[] = [];
  readonly #reading: Promise<void>;

  constructor(
    context: Context,
    api: string,
    options: { keys?: CurveKeys; serverKey?: string; routingId?: string } = {},
  ) {
    this.socket = context.socket("dealer", {
      linger: 0,
      reconnectInterval: 100,
      ...(options.routingId ? { routingId: options.routingId } : {}),
      ...(options.keys
        ? {
          curveServerKey: options.serverKey!,
          curvePublicKey: options.keys.publicKey,
          curveSecretKey: options.keys.secretKey,
        }
        : {}),
    });
    this.socket.connect(api);
    const socket = this.socket;
    this.#reading = (async () => {
      for await (const [, ...bodies] of socket) {
        for (const body of bodies) this.received.push(JSON.parse(decoder.decode(body)));
      }
    })();
  }

  send(message: Message): Promise<void> {
    return this.socket.send([PROTOCOL, encoder.encode(JSON.stringify(message))]);
  }

  /** The reply to request `id`, once it came (undefined after `ms`). */
  async reply(id: string, ms = 2000): Promise<Message | undefined> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const found = this.received.find((m) => m.type === "reply" && m.id === id);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return undefined;
  }

  async close(): Promise<void> {
    this.socket.close();
    await this.#reading;
  }
}

/** The id of the first worker host of the broker serving `ok`, once it joined. */
async function hostOf(cluster: Cluster): Promise<string> {
  const broker = (await cluster.manager.functions()).find((f) => f.name === "ok")!.brokers[0]!;
  const host = `${broker}/host-0`;
  for (let attempt = 0; attempt < 100; attempt++) {
    if (cluster.router.output.includes(`Worker host ${host} `)) return host;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`No worker host joined\n${cluster.logs()}`);
}

/** Says hello until answered: a key just added to the allow-list is let in within about a second. */
async function letIn(peer: Peer): Promise<Message> {
  for (let attempt = 0; attempt < 50; attempt++) {
    void peer.send(brokerHello(`hello-${attempt}`)).catch(() => {});
    const reply = await peer.reply(`hello-${attempt}`, 500);
    if (reply?.ok) return reply;
  }
  throw new Error("The key was never let in");
}

function brokerHello(id: string, of?: string): Message {
  return {
    type: "broker-hello",
    id,
    broker: { id: "x", host: "attacker", pid: 1, slots: 10, prefetch: 0, ...(of ? { of } : {}) },
    functions: [{ name: "ok", config: {} }],
  };
}

Deno.test("on CURVE, a peer with no key or with a key not on the allow-list gets no reply", async () => {
  await using cluster = await Cluster.start({ curve: true });
  const result = await cluster.manager.run(
    new Pipeline({ ok: ["tag", "tag_n"] }, { data: { n: 1 } }),
    { timeoutMs: 30_000 },
  );
  assertEquals(result.status, "succeeded", cluster.logs());
  await withContext(async (context) => {
    const plain = new Peer(context, cluster.api);
    const stranger = new Peer(context, cluster.api, {
      keys: newCurveKeys(),
      serverKey: cluster.keys!.router.keys.publicKey,
    });
    const client = new Peer(context, cluster.api, {
      keys: cluster.keys!.client.keys,
      serverKey: cluster.keys!.router.keys.publicKey,
    });
    try {
      for (const peer of [plain, stranger, client]) {
        await peer.send({ type: "status", id: "s1", pipelineId: result.id });
        await peer.send({ type: "list-functions", id: "f1" });
      }
      // The allowed client is answered: the others were asked the same, as long.
      assertEquals((await client.reply("s1", 10_000))?.ok, true);
      assertEquals(await plain.reply("f1"), undefined);
      assertEquals(await stranger.reply("f1"), undefined);
      assertEquals([...plain.received, ...stranger.received], []);
    } finally {
      await Promise.all([plain, stranger, client].map((peer) => peer.close()));
    }
  });
});

Deno.test("a client key that joins as a broker or a pipeliner is refused and handed nothing", async () => {
  await using cluster = await Cluster.start({ curve: true });
  await withContext(async (context) => {
    const keys = cluster.keys!;
    const options = { keys: keys.client.keys, serverKey: keys.router.keys.publicKey };
    const broker = new Peer(context, cluster.api, { ...options, routingId: "fake-broker" });
    const pipeliner = new Peer(context, cluster.api, { ...options, routingId: "fake-pipeliner" });
    // Well-formed reports, each refused for its key (a malformed one would get a
    // ProtocolError answer instead, once the run took longer than the first beat).
    const load = {
      busy: 0,
      slots: 10,
      loadavg: 0,
      cpus: 1,
      memoryUsed: 0,
      memoryTotal: 1,
      rss: 0,
    };
    const beat = setInterval(() => {
      void broker.send({ type: "broker-status", load }).catch(() => {});
      void pipeliner.send({ type: "pipeliner-status", active: 0 }).catch(() => {});
    }, 200);
    try {
      await broker.send(brokerHello("h1"));
      await pipeliner.send({
        type: "pipeliner-hello",
        id: "h2",
        pipeliner: { id: "x", host: "attacker", pid: 1 },
      });
      const refusals = [await broker.reply("h1", 10_000), await pipeliner.reply("h2", 10_000)];
      for (const refusal of refusals) {
        assertEquals(refusal?.ok, false, JSON.stringify(refusal));
        assertEquals((refusal?.error as Message).name, "ForbiddenError");
      }
      // Ten jobs and ten DAGs (a fan-out needs a pipeliner) from the real client.
      const runs = await Promise.all(Array.from({ length: 10 }, (_, n) =>
        cluster.manager.run(
          new Pipeline(
            n % 2 === 0
              ? { ok: [] }
              : new Map([[new Job("ok", "a"), [new Job("tag", "b"), new Job("tag", "c")]]]),
            { data: { n } },
          ),
          { timeoutMs: 30_000 },
        )));
      assertEquals(runs.map((r) => r.status), Array(10).fill("succeeded"), cluster.logs());
      await delay(700); // Some refused reports sent, however fast the runs were.
      const handed = [...broker.received, ...pipeliner.received].filter((m) => m.type !== "reply");
      assertEquals(handed, []);
      assertEquals(broker.received.length, 1);
      assertEquals(pipeliner.received.length, 1);
    } finally {
      clearInterval(beat);
      await broker.close();
      await pipeliner.close();
    }
  });
});

Deno.test("another broker's key cannot speak for a worker host of the first, nor cut it off", async () => {
  await using cluster = await Cluster.start({ curve: true, workers: 1 });
  const keys = cluster.keys!;
  const other = keys.make("other-broker");
  keys.writeAllowList([
    `${keys.broker.keys.publicKey} broker`,
    `${keys.client.keys.publicKey} client`,
    `${keys.pipeliner.keys.publicKey} pipeliner`,
    `${other.keys.publicKey} broker`,
  ]);
  const host = await hostOf(cluster);
  // libzmq does not retry a connection refused at its handshake: connect once it is let in.
  await until(() => cluster.router.output.includes("Allow-list reloaded"), cluster.logs());
  const realBroker = host.slice(0, host.indexOf("/"));
  await withContext(async (context) => {
    const options = { keys: other.keys, serverKey: keys.router.keys.publicKey };
    // Its own id first: once the allow-list has it, this hello is answered.
    const own = new Peer(context, cluster.api, { ...options, routingId: "other-broker" });
    const thief = new Peer(context, cluster.api, { ...options, routingId: host });
    const squatter = new Peer(context, cluster.api, {
      ...options,
      routingId: `${realBroker}/host-9`,
    });
    // The thief answers every job it is handed with a forged result.
    const forging = setInterval(() => {
      for (const run of thief.received.splice(0).filter((m) => m.type === "job-run")) {
        void thief.send({
          type: "job-done",
          pipelineId: run.pipelineId,
          jobId: run.jobId,
          attempt: run.attempt,
          outcome: { ok: true, output: { forged: true }, durationMs: 1 },
        }).catch(() => {});
      }
    }, 20);
    try {
      await letIn(own);
      // Not awaited: libzmq never gives the thief's connection the routing id it holds.
      void thief.send(brokerHello("t1", realBroker)).catch(() => {});
      void squatter.send(brokerHello("q1", realBroker)).catch(() => {});
      const squat = await squatter.reply("q1", 10_000);
      assertEquals(squat?.ok, false, JSON.stringify(squat));
      const runs = await Promise.all(
        Array.from(
          { length: 10 },
          (_, n) =>
            cluster.manager.run(new Pipeline({ ok: [] }, { data: { n } }), { timeoutMs: 30_000 }),
        ),
      );
      assertEquals(runs.map((r) => r.status), Array(10).fill("succeeded"), cluster.logs());
      assertEquals(runs.map((r) => r.document), runs.map((_, n) => ({ n: n + 1 })));
      const brokers = await (await fetch(`${cluster.http}/brokers`)).text();
      assert(brokers.includes(`"${host}"`), brokers);
      assert(!brokers.includes("host-9"), brokers);
    } finally {
      clearInterval(forging);
      await Promise.all([own, thief, squatter].map((peer) => peer.close()));
    }
  });
});

Deno.test("deno task start on CURVE hands its own broker, hosts and pipeliner keys: it runs as one command", async () => {
  await using cluster = await Cluster.start({ curve: true, oneProcess: true });
  const result = await cluster.manager.run(
    new Pipeline(new Map([[new Job("ok", "a"), [new Job("tag", "b"), new Job("tag", "c")]]]), {
      data: { n: 1 },
    }),
    { timeoutMs: 30_000 },
  );
  assertEquals(result.status, "succeeded", cluster.logs());
  // The worker hosts reached the Router over tcp, with the broker's key.
  assert(/ Worker host \S+\/host-0 /.test(cluster.router.output), cluster.logs());
  // It left a client key for this machine's clients (`deno task demo` reads it), 0600.
  const file = `${cluster.dataDir}/client.key`;
  assertEquals((Deno.statSync(file).mode ?? 0) & 0o777, 0o600);
  const curve = peerCurveKeys(file, cluster.keys!.router.file);
  const local = new PipelineManager({ api: cluster.api, broadcast: cluster.broadcast, curve });
  try {
    const id = await local.start({ graph: { ok: [] }, data: { n: 1 } });
    assertEquals((await local.wait(id, { timeoutMs: 30_000 })).status, "succeeded");
  } finally {
    await local.close();
  }
});

Deno.test("on CURVE, a broker with an empty folder fetches and runs the Router's functions; a client key may not fetch them", async () => {
  await using shipped = await folder({
    "echo.ts": "export default (input) => ({ echo: input.n });\n",
  });
  await using own = await folder({});
  await using cluster = await Cluster.start({
    curve: true,
    functionsDir: own.path,
    routerArgs: ["--functions", shipped.path],
    waitFor: ["echo"],
  });
  const result = await cluster.manager.run(new Pipeline({ echo: [] }, { data: { n: 7 } }), {
    timeoutMs: 30_000,
  });
  assertEquals([result.status, result.document.echo], ["succeeded", 7], cluster.logs());
  await withContext(async (context) => {
    const client = new Peer(context, cluster.api, {
      keys: cluster.keys!.client.keys,
      serverKey: cluster.keys!.router.keys.publicKey,
    });
    try {
      await client.send({ type: "fetch-file", id: "f1", sha256: "ab".repeat(32) });
      const refusal = await client.reply("f1", 10_000);
      assertEquals((refusal?.error as Message | undefined)?.name, "ForbiddenError");
    } finally {
      await client.close();
    }
  });
});
