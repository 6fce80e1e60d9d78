/**
 * What a Router refuses to expose: plain ZeroMQ beyond loopback (unless `--insecure`,
 * warned about), HTTP beyond loopback without a token; and `deno task keygen`'s files.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Daemon, freePort } from "./_cluster.ts";
import { until } from "./_helpers.ts";
import { DAEMON_FLAGS } from "../deno_flags.ts";
import { start } from "../router/mod.ts";
import { readKeyFile } from "../core/curve_keys.ts";

const root = new URL("..", import.meta.url).pathname;

function router(dataDir: string, args: string[]): Daemon {
  return new Daemon("router", [
    "run",
    ...DAEMON_FLAGS.router,
    "router/main.ts",
    "--data-dir",
    dataDir,
    "--broadcast",
    `tcp://127.0.0.1:${freePort()}`,
    ...args,
  ]);
}

Deno.test("a Router binding ZeroMQ beyond loopback without CURVE refuses to start; --insecure starts it, warned", async () => {
  const dataDir = Deno.makeTempDirSync({ prefix: "pipelinin-test-" });
  try {
    const api = `tcp://0.0.0.0:${freePort()}`;
    const refused = router(dataDir, ["--api", api, "--http", "off"]);
    let exited = false;
    void refused.status.then(() => (exited = true));
    try {
      await until(
        () => exited || refused.output.includes("Router listening"),
        "the Router",
        30_000,
      );
    } finally {
      await refused.stop();
    }
    assert(exited, `It started:\n${refused.output}`);
    assertEquals((await refused.status).code, 1, refused.output);
    assert(
      refused.output.includes(`ZeroMQ endpoint "${api}" is reachable beyond loopback`),
      refused.output,
    );
    const insecure = router(dataDir, ["--api", api, "--http", "off", "--insecure"]);
    try {
      await until(() => insecure.output.includes("Router listening"), insecure.output, 30_000);
      assert(insecure.output.includes("INSECURE: ZeroMQ on"), insecure.output);
    } finally {
      await insecure.stop();
    }
  } finally {
    Deno.removeSync(dataDir, { recursive: true });
  }
});

Deno.test("a Router refuses HTTP beyond loopback without a token", () => {
  const dataDir = Deno.makeTempDirSync({ prefix: "pipelinin-test-" });
  try {
    let message = "";
    try {
      start({ dataDir, http: `0.0.0.0:${freePort()}`, api: "inproc://exposure-api" });
    } catch (error) {
      message = (error as Error).message;
    }
    assert(message.includes("is reachable beyond loopback: set PIPELININ_TOKEN"), message);
  } finally {
    Deno.removeSync(dataDir, { recursive: true });
  }
});

Deno.test("keygen writes a key pair file of mode 0600 and prints its public key", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pipelinin-test-" });
  try {
    const out = `${dir}/peer.key`;
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["task", "keygen", "--out", out],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(run.code, 0, new TextDecoder().decode(run.stderr));
    assertEquals(Deno.statSync(out).mode! & 0o777, 0o600);
    const keys = readKeyFile(out);
    assertEquals(new TextDecoder().decode(run.stdout).trim(), keys.publicKey);
    assertEquals(Object.keys(JSON.parse(Deno.readTextFileSync(out))), ["public", "secret"]);
    const again = await new Deno.Command(Deno.execPath(), {
      args: ["task", "keygen", "--out", out],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(again.code, 1); // A key is never overwritten.
    assertEquals(readKeyFile(out), keys);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
