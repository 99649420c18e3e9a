/**
 * Child processes for the bench: started pinned to a CPU, tracked, and always stopped, on
 * success, error, SIGINT or SIGTERM alike. Plus the small helpers around them: free ports,
 * waiting for a port, installing wrk/nginx, the CPU layout.
 */
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { createConnection, createServer } from "node:net";
import { openSync, closeSync, readFileSync } from "node:fs";
import { cpus } from "node:os";

export function have(cmd) {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Installs whichever of wrk and nginx is missing, with apt-get (we run as root, no sudo). */
export function ensureTools(log) {
  const missing = ["wrk", "nginx"].filter((c) => !have(c));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0)
    throw new Error(`missing ${missing.join(", ")}: install them (apt-get install -y ${missing.join(" ")}) or run as root`);
  log(`installing ${missing.join(", ")} with apt-get ...`);
  // policy-rc.d (where present) keeps the package's own nginx service from starting; we never
  // use /etc/nginx: every nginx here runs from a generated config in a temp dir.
  execFileSync("sh", ["-c", `apt-get update -qq && apt-get install -y -qq ${missing.join(" ")}`], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  const still = missing.filter((c) => !have(c));
  if (still.length > 0) throw new Error(`apt-get did not provide ${still.join(", ")}`);
}

export function versionOf(cmd, args) {
  // wrk -v prints to stdout and exits 1; nginx -v prints to stderr
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n")[0] || "unknown";
}

/**
 * Which CPU each role runs on. The proxy under test gets a core of its own; wrk and the upstream
 * nginx share the other one on a 2-core machine (the upstream answers from memory and needs
 * little). The layout is the same for all four subjects; BENCH_PIN=0 turns pinning off.
 */
export function cpuLayout() {
  const n = cpus().length;
  if (process.env.BENCH_PIN === "0" || n < 2 || !have("taskset"))
    return { pinned: false, nproc: n, proxy: null, wrk: null, upstream: null, wrkThreads64: Math.min(2, n) };
  if (n === 2) return { pinned: true, nproc: n, proxy: "0", wrk: "1", upstream: "1", wrkThreads64: 1 };
  if (n === 3) return { pinned: true, nproc: n, proxy: "0", wrk: "1", upstream: "2", wrkThreads64: 1 };
  return { pinned: true, nproc: n, proxy: "0", wrk: "1,2", upstream: "3", wrkThreads64: 2 };
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Tracks every process the bench starts and stops them all, whatever happens. */
export class ProcessGroup {
  constructor(logDir) {
    this.logDir = logDir;
    this.children = new Set();
    this.stopping = false;
    this.onUnexpectedExit = null;
  }

  /**
   * Starts `cmd args` (under `taskset -c cpu` when cpu is set). stdout goes to /dev/null unless
   * `capture` is set (then it is returned in `out` as a string); stderr to <logDir>/<name>.log.
   */
  start(name, cmd, args, { cpu = null, env, capture = false } = {}) {
    const logFile = `${this.logDir}/${name}.log`;
    const errFd = openSync(logFile, "a");
    const argv = cpu !== null ? ["-c", cpu, cmd, ...args] : args;
    const child = spawn(cpu !== null ? "taskset" : cmd, argv, {
      stdio: ["ignore", capture ? "pipe" : "ignore", errFd],
      env: env ?? process.env,
    });
    closeSync(errFd);
    const proc = { name, child, logFile, out: "", exited: null };
    proc.exitedPromise = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        proc.exited = { code, signal };
        this.children.delete(proc);
        if (!this.stopping && !proc.expectExit) this.onUnexpectedExit?.(proc);
        resolve(proc.exited);
      });
    });
    child.once("error", (err) => {
      proc.exited = { code: -1, signal: null, error: err };
      this.children.delete(proc);
    });
    if (capture) {
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (d) => (proc.out += d));
    }
    this.children.add(proc);
    return proc;
  }

  /** Runs a command to completion (tracked, so SIGINT stops it too), killing it after timeoutMs. */
  async run(name, cmd, args, { cpu = null, timeoutMs }) {
    const proc = this.start(name, cmd, args, { cpu, capture: true });
    proc.expectExit = true;
    const timer = setTimeout(() => proc.child.kill("SIGKILL"), timeoutMs);
    const exit = await proc.exitedPromise;
    clearTimeout(timer);
    return { ...exit, out: proc.out };
  }

  async stop(proc, graceMs = 5_000) {
    if (proc.exited) return;
    proc.expectExit = true;
    proc.child.kill("SIGTERM");
    const t = setTimeout(() => proc.child.kill("SIGKILL"), graceMs);
    await proc.exitedPromise;
    clearTimeout(t);
  }

  async stopAll() {
    this.stopping = true;
    await Promise.all([...this.children].map((p) => this.stop(p)));
  }

  /** Last-chance synchronous kill (process 'exit' handler). */
  killAllNow() {
    for (const p of this.children) {
      try {
        p.child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  tail(proc, lines = 20) {
    try {
      return readFileSync(proc.logFile, "utf8").trim().split("\n").slice(-lines).join("\n");
    } catch {
      return "";
    }
  }
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port; fails if `proc` exits first. */
export async function waitForPort(port, proc, group, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exited)
      throw new Error(`${proc.name} exited (${JSON.stringify(proc.exited)}) before listening on ${port}:\n${group.tail(proc)}`);
    const ok = await new Promise((resolve) => {
      const s = createConnection({ port, host: "127.0.0.1" });
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${proc.name} did not listen on ${port} within ${timeoutMs} ms:\n${group.tail(proc)}`);
    await sleep(50);
  }
}

export { sleep };
