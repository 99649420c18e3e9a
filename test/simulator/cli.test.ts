import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { parseDuration, parseProvidersYaml, registerSimulateCommand } from "../../src/simulator/cli.js";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { call } from "../helpers/http.js";
import { eventually } from "../helpers/wait.js";

function program(deps: Parameters<typeof registerSimulateCommand>[1]): Command {
  const p = new Command().exitOverride();
  registerSimulateCommand(p, deps);
  return p;
}

test("parseDuration and parseProvidersYaml", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("10s"), 10_000);
  assert.equal(parseDuration("2m"), 120_000);
  assert.equal(parseDuration("3"), 3_000);
  assert.throws(() => parseDuration("soon"), /not a duration/);
  const list = parseProvidersYaml("- { name: a, dialect: openai, port: 0, latency_ms: 5 }\n- { name: b, dialect: rest }\n");
  assert.deepEqual(list, [
    { name: "a", dialect: "openai", port: 0, latency_ms: 5 },
    { name: "b", dialect: "rest" },
  ]);
  assert.equal(parseProvidersYaml("providers:\n  - dialect: gemini\n").length, 1);
  assert.throws(() => parseProvidersYaml("- { dialect: cobol }"), /item 0: dialect/);
  assert.throws(() => parseProvidersYaml("- { dialect: openai, error_rate: 3 }"), /error_rate/);
});

test("simulate providers: starts the YAML's providers, prints their URLs and control URLs, stops when told", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sim-cli-"));
  const file = join(dir, "providers.yaml");
  writeFileSync(file, "- { name: p-openai, dialect: openai }\n- { name: p-rest, dialect: rest, rest_status_ignored: 1 }\n");
  try {
    let out = "";
    await assert.rejects(
      program({ print: (t) => (out += t), untilStopped: async () => {} }).parseAsync(["node", "x", "simulate", "providers", "-c", file]),
      /rest_status_ignored/,
    );
    writeFileSync(file, "- { name: p-openai, dialect: openai }\n- { name: p-rest, dialect: rest }\n");
    let release!: () => void;
    const stopped = new Promise<void>((r) => (release = r));
    const run = program({ print: (t) => (out += t), untilStopped: () => stopped }).parseAsync([
      "node",
      "x",
      "simulate",
      "providers",
      "-c",
      file,
    ]);
    await eventually(() => out.includes("p-rest"), 20_000, "p-rest in the output");
    const [, url, controlUrl] = /p-rest\s+rest\s+(\S+)\s+control (\S+)/.exec(out)!;
    assert.equal((await call(`${url}/ping`)).json.source, "p-rest");
    assert.equal((await call(`${controlUrl}/_sim/stats`)).json.name, "p-rest");
    assert.match(out, /p-openai\s+openai\s+http:\/\/127\.0\.0\.1:\d+\/v1/);
    release();
    await run;
    await assert.rejects(call(`${url}/ping`), (err: { code?: string }) => err.code === "ECONNREFUSED");
    await assert.rejects(call(`${controlUrl}/_sim/stats`), (err: { code?: string }) => err.code === "ECONNREFUSED");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("simulate load prints progress and the report; simulate demo calls the injected runner", async () => {
  const sim = await startSimProvider({ dialect: "openai" });
  try {
    let out = "";
    await program({ print: (t) => (out += t) }).parseAsync([
      "node",
      "x",
      "simulate",
      "load",
      "--url",
      sim.url,
      "--path",
      "/chat/completions",
      "--key",
      "k1",
      "--concurrency",
      "2",
      "--requests",
      "6",
    ]);
    assert.match(out, /requests\s+6 in/);
    assert.match(out, /ok \(2xx\)\s+6/);
    assert.equal(sim.stats().by_key.k1, 6);
  } finally {
    await sim.close();
  }
  let got: { durationMs: number } | undefined;
  await program({
    runDemo: (o) => {
      got = o;
      return Promise.resolve();
    },
  }).parseAsync(["node", "x", "simulate", "demo", "--duration", "3s"]);
  assert.deepEqual(got, { durationMs: 3000 });
});
