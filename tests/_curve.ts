/**
 * Test helper: CURVE keys for a cluster, as files in its data dir (key pairs written
 * the way `deno task keygen` writes them) and an allow-list naming each with its role.
 *
 * @module
 */
import { type CurveKeys, newCurveKeys, writeKeyFile } from "../core/curve_keys.ts";

/** A peer's key pair and the file holding it. */
export interface KeyFile {
  readonly keys: CurveKeys;
  readonly file: string;
}

/** The keys of a CURVE cluster. */
export class ClusterKeys {
  readonly dir: string;
  readonly router: KeyFile;
  readonly broker: KeyFile;
  readonly pipeliner: KeyFile;
  readonly client: KeyFile;
  /** The allow-list the Router reads (and reloads). */
  readonly allowFile: string;
  #count = 0;

  /** Makes the keys under `dataDir/keys` and an allow-list of the broker, pipeliner and client. */
  constructor(dataDir: string) {
    this.dir = `${dataDir}/keys`;
    Deno.mkdirSync(this.dir, { recursive: true });
    this.router = this.make("router");
    this.broker = this.make("broker");
    this.pipeliner = this.make("pipeliner");
    this.client = this.make("client");
    this.allowFile = `${this.dir}/allow.txt`;
    this.writeAllowList([
      `${this.broker.keys.publicKey} broker`,
      `${this.pipeliner.keys.publicKey} pipeliner # the test's`,
      "",
      `${this.client.keys.publicKey} client`,
    ]);
  }

  /** A new key pair file. */
  make(name: string): KeyFile {
    const file = `${this.dir}/${name}-${this.#count++}.key`;
    const keys = newCurveKeys();
    writeKeyFile(file, keys);
    return { keys, file };
  }

  /** Replaces the allow-list (atomically, as an editor would). */
  writeAllowList(lines: string[]): void {
    const temp = `${this.allowFile}.tmp`;
    Deno.writeTextFileSync(temp, `${lines.join("\n")}\n`);
    Deno.renameSync(temp, this.allowFile);
  }

  /** A client's keys for the Router. */
  clientOf(pair: CurveKeys): CurveKeys & { serverKey: string } {
    return { ...pair, serverKey: this.router.keys.publicKey };
  }

  /** The flags of a broker or pipeliner with `key`. */
  peerFlags(key: KeyFile): string[] {
    return ["--curve-key", key.file, "--router-key", this.router.file];
  }
}
