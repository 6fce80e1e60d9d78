/**
 * What CURVE costs the transport: DEALER -> ROUTER echo over TCP on loopback with and
 * without CURVE (ZAP handler and the per-message User-Id read included), pipelined in
 * batches of 500, and once over inproc (where libzmq runs no mechanism). Median of 3.
 *
 * `deno run --allow-all bench/curve_cost.ts`
 *
 * @module
 */
// deno-lint-ignore-file no-console -- a benchmark prints its figures
import { Context } from "../core/zmq/mod.ts";
import { newCurveKeys } from "../core/curve_keys.ts";

const MESSAGES = 100_000;
const BATCH = 500;
const BODY = new Uint8Array(300);

async function run(curve: boolean, endpoint: string): Promise<number> {
  const context = new Context();
  try {
    const server = newCurveKeys(), client = newCurveKeys();
    if (curve) {
      const zap = context.socket("rep", { linger: 0 });
      zap.bind("inproc://zeromq.zap.01");
      void (async () => {
        for await (const request of zap) {
          await zap.send([request[0]!, request[1]!, "200", "OK", "k1", ""]);
        }
      })();
    }
    const router = context.socket("router", {
      linger: 0,
      ...(curve ? { curveServer: true, curveSecretKey: server.secretKey, userIdFrame: true } : {}),
    });
    const bound = router.bind(endpoint);
    const dealer = context.socket("dealer", {
      linger: 0,
      ...(curve
        ? {
          curveServerKey: server.publicKey,
          curvePublicKey: client.publicKey,
          curveSecretKey: client.secretKey,
        }
        : {}),
    });
    dealer.connect(bound);
    const at = curve ? 1 : 0;
    void (async () => {
      for await (const frames of router) await router.send(frames.slice(at));
    })();
    await dealer.send(BODY);
    await dealer.receive();
    const started = performance.now();
    for (let sent = 0; sent < MESSAGES; sent += BATCH) {
      for (let i = 0; i < BATCH; i++) void dealer.send(BODY);
      for (let i = 0; i < BATCH; i++) await dealer.receive();
    }
    return MESSAGES / ((performance.now() - started) / 1000);
  } finally {
    await context.close();
  }
}

const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
for (
  const [name, curve, endpoint] of [
    ["tcp, plain", false, "tcp://127.0.0.1:0"],
    ["tcp, CURVE", true, "tcp://127.0.0.1:0"],
    ["inproc, CURVE socket options", true, "inproc://curve-cost"],
  ] as const
) {
  const figures: number[] = [];
  for (let i = 0; i < 3; i++) figures.push(await run(curve, endpoint));
  console.log(`${name}: ${Math.round(median(figures))} round trips/s (median of 3)`);
}
