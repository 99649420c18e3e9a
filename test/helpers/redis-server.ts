/**
 * A redis-server of the test's own, on a free loopback port, that the test may kill and start
 * again (the shared one on 6379 is never touched). Nothing is saved: a restart comes back empty,
 * as a Redis without persistence does.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { freePort } from "./free-port.js";

export interface OwnRedis {
  readonly port: number;
  readonly url: string;
  /** Kills the server (SIGKILL: connections drop at once, as in a crash). */
  kill(): Promise<void>;
  /** Starts it again on the same port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it for good (at the end of the test). */
  close(): Promise<void>;
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const c = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      child = c;
      let out = "";
      const timer = setTimeout(() => reject(new Error(`redis-server not ready in 10 s:\n${out}`)), 10_000);
      c.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      });
      c.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited ${code}:\n${out}`));
      });
    });
  const kill = async () => {
    const c = child;
    child = undefined;
    if (c === undefined || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGKILL");
    await exited;
  };
  await start();
  return { port, url: `redis://127.0.0.1:${port}`, kill, start, close: kill };
}
