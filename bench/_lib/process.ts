/**
 * Helpers for benchmark harnesses: free ports, child processes that are always
 * stopped, medians, machine description.
 *
 * @module
 */

export { freePort } from "../../tests/_ports.ts";

/** A started child process whose stdout is read line by line. */
export class Child implements AsyncDisposable {
  readonly #process: Deno.ChildProcess;
  readonly #lines: AsyncIterator<string>;
  readonly name: string;

  constructor(name: string, command: string, args: string[], options: { cwd?: string } = {}) {
    this.name = name;
    this.#process = new Deno.Command(command, {
      args,
      cwd: options.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#lines = this.#process.stdout
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new LineSplitter())[Symbol.asyncIterator]();
  }

  /** The process id. */
  get pid(): number {
    return this.#process.pid;
  }

  /** The next line of stdout; throws if the process ends first. */
  async line(): Promise<string> {
    const next = await this.#lines.next();
    if (next.done) throw new Error(`${this.name} ended before printing what was expected`);
    return next.value;
  }

  /** Waits for the process to end and returns its exit code. */
  async exit(): Promise<number> {
    return (await this.#process.status).code;
  }

  /** Stops the process (SIGTERM, then SIGKILL after 2 s). */
  async stop(): Promise<void> {
    try {
      this.#process.kill("SIGTERM");
    } catch {
      return; // Already gone.
    }
    const timer = setTimeout(() => {
      try {
        this.#process.kill("SIGKILL");
      } catch { /* gone */ }
    }, 2000);
    await this.#process.status;
    clearTimeout(timer);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

class LineSplitter extends TransformStream<string, string> {
  constructor() {
    let rest = "";
    super({
      transform(chunk, controller) {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop() ?? "";
        for (const part of parts) controller.enqueue(part);
      },
      flush(controller) {
        if (rest) controller.enqueue(rest);
      },
    });
  }
}

/** The median of a non-empty list. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** CPU model, cores and memory, for RESULTS.md. */
export async function machine(): Promise<string> {
  let cpu = "unknown CPU";
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    cpu = /model name\s*:\s*(.+)/.exec(info)?.[1] ?? cpu;
  } catch { /* not Linux */ }
  const memGiB = Math.round(Deno.systemMemoryInfo().total / 2 ** 30);
  return `${cpu}, ${navigator.hardwareConcurrency} cores, ${memGiB} GiB, ${Deno.build.os}/${Deno.build.arch}`;
}

/** Runs a command to completion and returns its trimmed stdout (throws on failure). */
export async function output(command: string, args: string[], cwd?: string): Promise<string> {
  const result = await new Deno.Command(command, { args, cwd, stderr: "piped" }).output();
  if (!result.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed: ${new TextDecoder().decode(result.stderr)}`,
    );
  }
  return new TextDecoder().decode(result.stdout).trim();
}

/** Replaces (or appends) the section of RESULTS.md that starts with `heading`. */
export async function writeSection(file: string, heading: string, body: string): Promise<void> {
  let text = "";
  try {
    text = await Deno.readTextFile(file);
  } catch {
    text = "# Benchmark results\n\nWritten by `deno task bench`; newest run of each benchmark.\n";
  }
  const start = text.indexOf(heading);
  const section = `${heading}\n\n${body.trim()}\n`;
  if (start < 0) {
    text = `${text.trimEnd()}\n\n${section}`;
  } else {
    const next = text.indexOf("\n## ", start + heading.length);
    text = text.slice(0, start) + section + (next < 0 ? "" : text.slice(next));
  }
  await Deno.writeTextFile(file, text);
}

/**
 * Writes one benchmark's section of RESULTS.md (its intro, table and JSON line),
 * then prints the table and, as the last line, the JSON.
 */
export async function report(
  file: string,
  heading: string,
  intro: string,
  table: string,
  line: Record<string, unknown>,
): Promise<void> {
  const json = JSON.stringify(line);
  await writeSection(file, heading, `${intro.trim()}\n\n${table}\n\n\`\`\`json\n${json}\n\`\`\``);
  // deno-lint-ignore no-console -- a benchmark prints its results
  console.log(table);
  // deno-lint-ignore no-console -- the last line is the machine-readable result
  console.log(json);
}
