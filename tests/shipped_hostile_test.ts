/**
 * A hostile Router shipping functions: a test ROUTER socket speaking the protocol to
 * a real broker. Bytes that do not match their hash, manifests whose tree hash lies,
 * paths that leave the folder, oversize files and too many files are refused with a
 * clear log line; none of them is written or run, the broker does not crash, and a
 * good manifest afterwards is served.
 */
import { Buffer } from "node:buffer";
import { assert, assertEquals } from "./_assert.ts";
import { Daemon } from "./_cluster.ts";
import { delay, withContext } from "./_helpers.ts";
import { DAEMON_FLAGS } from "../deno_flags.ts";
import { HOST_BOXES_DIR } from "../broker/deno_flags.ts";
import type { Socket } from "../core/zmq/mod.ts";
import {
  encode,
  type ManifestFile,
  type Message,
  parseToRouter,
  PROTOCOL,
  PROTOCOL_LIMITS,
  sha256Hex,
  splitBatch,
  treeHash,
} from "../core/protocol/mod.ts";

const WAIT_MS = 30_000;

/** The fake Router: answers hellos and fetches, keeps what the broker announced and fetched. */
class FakeRouter {
  readonly files = new Map<string, Uint8Array>();
  readonly fetched: string[] = [];
  /** Names in the broker's last `broker-functions` (or hello), by sender. */
  readonly announced = new Map<string, string[]>();
  brokerAddress: Uint8Array | undefined;
  readonly #socket: Socket;

  constructor(socket: Socket) {
    this.#socket = socket;
    void this.#serve();
  }

  send(address: Uint8Array, message: Message): Promise<void> {
    return this.#socket.send([address, ...encode(message)]);
  }

  async #serve(): Promise<void> {
    for await (const [address, ...frames] of this.#socket) {
      for (const part of splitBatch(frames)) {
        const message = parseToRouter(part);
        const sender = new TextDecoder().decode(address);
        switch (message.type) {
          case "broker-hello":
            if (message.broker.of === undefined) this.brokerAddress = address;
            this.announced.set(sender, message.functions.map((f) => f.name));
            await this.send(address!, {
              type: "reply",
              id: message.id,
              ok: true,
              result: { heartbeatMs: 1000, broadcast: "tcp://127.0.0.1:9" },
            });
            break;
          case "broker-functions":
            this.announced.set(sender, message.functions.map((f) => f.name));
            break;
          case "fetch-file": {
            this.fetched.push(message.sha256);
            const bytes = this.files.get(message.sha256);
            await this.send(address!, {
              type: "reply",
              id: message.id,
              ok: true,
              result: { sha256: message.sha256, data: Buffer.from(bytes ?? []).toString("base64") },
            });
            break;
          }
          default:
            break;
        }
      }
    }
  }
}

const encoder = new TextEncoder();
const file = async (path: string, source: string) => {
  const bytes = encoder.encode(source);
  return { path, sha256: await sha256Hex(bytes), size: bytes.length, bytes };
};
const manifest = async (files: ManifestFile[], functions: string[], tree?: string) => ({
  type: "functions-manifest" as const,
  tree: tree ?? await treeHash(files),
  files: files.map(({ path, sha256, size }) => ({ path, sha256, size })),
  functions: functions.map((name) => ({ name, entry: `${name}.ts` })),
});

/** Every file below the broker's caches of shipped functions holding `marker`. */
async function cachedWith(pid: number, marker: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile && (await Deno.readTextFile(path)).includes(marker)) found.push(path);
    }
  };
  for await (const entry of Deno.readDir(HOST_BOXES_DIR)) {
    if (entry.name.startsWith(`${pid}-`) && entry.isDirectory) {
      await walk(`${HOST_BOXES_DIR}/${entry.name}`);
    }
  }
  return found;
}

Deno.test("a broker refuses shipped files that do not match their hash, and paths or sizes it must not take", () =>
  withContext(async (ctx) => {
    const socket = ctx.socket("router", { maxMessageSize: -1 });
    const endpoint = socket.bind("tcp://127.0.0.1:0");
    const router = new FakeRouter(socket);
    const broker = new Daemon("broker", [
      "run",
      ...DAEMON_FLAGS.broker,
      "broker/main.ts",
      "--router",
      endpoint,
      "--functions",
      "",
      "--workers",
      "1",
      "--heap-mb",
      "64",
    ]);
    try {
      const logs = () => broker.output;
      const until = async (done: () => boolean | Promise<boolean>, what: string) => {
        const deadline = Date.now() + WAIT_MS;
        while (!(await done())) {
          assert(Date.now() < deadline, `${what}\n${logs()}`);
          await delay(20);
        }
      };
      await until(() => router.brokerAddress !== undefined, "the broker never said hello");
      const address = router.brokerAddress!;

      // Bytes that are not the file the manifest names.
      const evil = await file("evil.ts", `export default () => ({ evil: "EVIL_MARKER" });\n`);
      router.files.set(evil.sha256, encoder.encode(`export default () => ({ other: 1 });\n`));
      await router.send(address, await manifest([evil], ["evil"]));
      await until(() => logs().includes("Refused"), "no refusal logged");
      assert(logs().includes('Refused "evil.ts"') && logs().includes(evil.sha256), logs());
      // A tree hash that is not that of the files.
      await router.send(address, await manifest([evil], ["evil"], "0".repeat(64)));
      await until(() => logs().includes("is not that of its files"), "no tree refusal logged");

      // Names and sizes the parser refuses: nothing of them is fetched.
      const fetchedBefore = router.fetched.length;
      const bad = await file("bad.ts", "export default () => ({});\n");
      const cases: Array<[string, unknown]> = [
        ["../x.ts", { ...bad, path: "../x.ts" }],
        ["/etc/x.ts", { ...bad, path: "/etc/x.ts" }],
        ["NUL", { ...bad, path: "x\0.ts" }],
        ["oversize", { ...bad, size: PROTOCOL_LIMITS.maxShippedFileBytes + 1 }],
      ];
      for (const [at, [what, entry]] of cases.entries()) {
        const body = {
          type: "functions-manifest",
          tree: "0".repeat(64),
          files: [entry],
          functions: [],
        };
        await socket.send([
          address,
          encoder.encode(PROTOCOL),
          encoder.encode(JSON.stringify(body)),
        ]);
        await until(
          () => logs().split("Malformed message from the Router").length > at + 1,
          `${what} not refused`,
        );
      }
      const many = Array.from(
        { length: PROTOCOL_LIMITS.maxShippedFiles + 1 },
        (_, i) => ({ path: `f${i}.ts`, sha256: bad.sha256, size: bad.size }),
      );
      await router.send(address, await manifest(many, []));
      await until(
        () => logs().includes(`at most ${PROTOCOL_LIMITS.maxShippedFiles} entries`),
        "too many files not refused",
      );
      assert(logs().includes('"files[0].path"'), logs());
      assert(logs().includes('"files[0].size"'), logs());
      assertEquals(router.fetched.length, fetchedBefore, "a refused manifest was fetched");

      // It still runs, never wrote the bad bytes, never served "evil"; a good tree serves.
      const good = await file("good.ts", "export default () => ({ good: 1 });\n");
      router.files.set(good.sha256, good.bytes);
      await router.send(address, await manifest([good], ["good"]));
      await until(
        () => [...router.announced.values()].some((names) => names.includes("good")),
        "the good function was never announced",
      );
      assertEquals(
        [...router.announced.values()].some((names) => names.includes("evil")),
        false,
        "evil was served",
      );
      assertEquals(await cachedWith(broker.pid, "EVIL_MARKER"), []);
      assertEquals(await cachedWith(broker.pid, "other: 1"), []);
      assert((await cachedWith(broker.pid, "good: 1")).length > 0, "the good file is not cached");
    } finally {
      await broker.stop();
    }
  }));
