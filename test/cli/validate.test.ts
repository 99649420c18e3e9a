import { test, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, mkdtempSync, rmSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "switchyard-validate-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

test("validate prints the resolved config with secrets masked, exit 0", async () => {
  const p = file(
    "good.yaml",
    `routes:
  - name: chat
    surface: openai
    models: [gpt-4o-mini]
    strategy: round-robin
    targets:
      - { id: a, provider: openai, base_url: https://api.openai.com/v1, key: "\${KEY_A}", headers: { x-api-token: tok-secret-5555, x-team: blue } }
`,
  );
  const r = await runCli(["validate", "--config", p], { KEY_A: "sk-very-secret-1234" });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /valid/);
  assert.match(r.stdout, /key: "?\*\*\*\*1234"?/);
  assert.match(r.stdout, /x-api-token: "?\*\*\*\*5555"?/);
  assert.match(r.stdout, /x-team: blue/);
  assert.match(r.stdout, /max_body_bytes: 10485760/, "defaults are shown");
  assert.doesNotMatch(r.stdout + r.stderr, /very-secret|tok-secret/);
});

test("validate masks alert channels' secrets, hook URLs and SMTP passwords, and tracing headers", async () => {
  const p = file(
    "alerts.yaml",
    `alerts:
  channels:
    - { type: webhook, name: ops, url: "https://hooks.example.test/services/T00/B00/hook-secret-6666", secret: hmac-secret-7777, headers: { authorization: Bearer hdr-secret-8888 } }
    - { type: email, name: mail, smtp: { host: smtp.example.test, user: alerts, pass: smtp-secret-9999 }, from: a@example.test, to: [b@example.test] }
tracing: { headers: { x-api-key: otlp-secret-1010 } }
routes:
  - { name: r, surface: rest, service: s, targets: [{ id: t, provider: rest, base_url: "http://127.0.0.1:1" }] }
`,
  );
  const r = await runCli(["validate", "--config", p], {});
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout + r.stderr, /hook-secret|hmac-secret|hdr-secret|smtp-secret|otlp-secret/);
  assert.match(r.stdout, /https:\/\/hooks\.example\.test\/\*\*\*\*6666/);
  assert.match(r.stdout, /pass: "?\*\*\*\*9999"?/);
  assert.match(r.stdout, /user: alerts/);
});

test("a broken config exits 1 and names the path of each problem", async () => {
  const p = file(
    "bad.yaml",
    `routes:
  - name: chat
    surface: openai
    models: [m]
    targets:
      - { id: a, provider: openai, base_url: https://x, weight: 0 }
  - name: chat
    surface: soap
    models: [n]
    targets:
      - { id: b, provider: openai, base_url: nope }
`,
  );
  const r = await runCli(["validate", "--config", p]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /routes\[0\]\.targets\[0\]\.weight: must be > 0/);
  assert.match(r.stderr, /routes\[1\]\.surface: must be one of openai, anthropic, gemini, rest/);
  assert.match(r.stderr, /routes\[1\]\.targets\[0\]\.base_url: must be an http\(s\) URL/);
  assert.equal(r.stdout, "");
});

test("start with a broken config exits 1 with the same messages", async () => {
  const p = file("bad2.yaml", "routes: []\n");
  const r = await runCli(["start", "--config", p]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /routes: must list at least one route/);
});

test("a missing file and no config at all are explained", async () => {
  const missing = await runCli(["validate", "--config", join(dir, "nope.yaml")]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.yaml: file not found/);
  const none = await runCli(["validate"], { SWITCHYARD_PROVIDER: "" }, dir);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no config: pass --config FILE/);
});

test("the environment shortcut validates with keys masked", async () => {
  const r = await runCli(["validate"], { SWITCHYARD_PROVIDER: "openai", SWITCHYARD_API_KEYS: "sk-env-aaaa1111:3,sk-env-bbbb2222:1" }, dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /# environment: valid/);
  assert.match(r.stdout, /\*\*\*\*1111/);
  assert.doesNotMatch(r.stdout, /sk-env-aaaa/);
});

test("every command has --help", async () => {
  for (const cmd of [[], ["start"], ["validate"], ["simulate"]]) {
    const r = await runCli([...cmd, "--help"]);
    assert.equal(r.code, 0, `${cmd.join(" ")} --help`);
    assert.match(r.stdout, /Usage: switchyard/);
  }
});

test("validate loads response mappers relative to the config file and masks secret query values", async () => {
  const p = file(
    "mapper.yaml",
    `routes:
  - name: quotes
    surface: rest
    service: quotes
    targets:
      - { id: a, provider: rest, base_url: "https://vendor.example", query: { api_token: tok-query-7777, format: json }, response_mapper: ./missing-mapper.mjs }
`,
  );
  const r = await runCli(["validate", "--config", p]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /routes\[0\]\.targets\[0\]\.response_mapper: /);
  const ok = file("mapper-ok.yaml", readFileSync(p, "utf8").replace(", response_mapper: ./missing-mapper.mjs", ""));
  const r2 = await runCli(["validate", "--config", ok]);
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stdout, /api_token: "?\*\*\*\*7777"?/);
  assert.match(r2.stdout, /format: json/);
  assert.doesNotMatch(r2.stdout, /tok-query-7777/);
});
