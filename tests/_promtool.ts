/**
 * Prometheus's own `promtool` (Debian package `prometheus`), installed with apt-get
 * when missing, as `.ci/run` does on a fresh machine.
 */

function found(): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin").split(":")) {
    try {
      if (Deno.statSync(`${dir}/promtool`).isFile) return `${dir}/promtool`;
    } catch { /* not here */ }
  }
  return undefined;
}

async function run(command: string, args: string[]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
      env: { DEBIAN_FRONTEND: "noninteractive" },
    }).output();
    return success;
  } catch {
    return false;
  }
}

/** The path of `promtool`, or why it is not there. */
export async function promtool(): Promise<{ path: string } | { missing: string }> {
  const path = found();
  if (path) return { path };
  const root = Deno.uid() === 0;
  const apt = (args: string[]) =>
    root ? run("apt-get", args) : run("sudo", ["-n", "apt-get", ...args]);
  const installed = await apt(["install", "-y", "-q", "--no-install-recommends", "prometheus"]) ||
    (await apt(["update", "-q"]) &&
      await apt(["install", "-y", "-q", "--no-install-recommends", "prometheus"]));
  const now = found();
  if (now) return { path: now };
  return {
    missing: installed
      ? "apt-get installed prometheus but promtool is not on PATH"
      : "promtool is missing and apt-get install prometheus failed (not root, or no package list)",
  };
}

/** `promtool check metrics` on `text`: its success and everything it printed. */
export async function checkMetrics(
  path: string,
  text: string,
): Promise<{ ok: boolean; out: string }> {
  const child = new Deno.Command(path, {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { success, stdout, stderr } = await child.output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { ok: success, out: decode(stdout) + decode(stderr) };
}
