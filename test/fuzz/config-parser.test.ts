/**
 * The config parser against hostile input: arbitrary text, YAML-shaped text, a valid config with
 * fields dropped or of the wrong type (as YAML and as an object), `${VAR}` references everywhere,
 * `__proto__` keys, alias bombs and deep nesting. Each ends as a frozen Config or a ConfigError
 * naming its problems: never another exception.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { stringify } from "yaml";
import { ConfigError } from "../../src/errors.js";
import { parseConfig, parseConfigText } from "../../src/config/load.js";
import { mutated } from "./hostile-json.js";

const ENV = { PORT: "8081", KEY: "sk-env-0001", EMPTY: "", WORD: "yes" };

/** A config using most blocks, valid as it stands. */
const VALID = {
  server: { host: "127.0.0.1", port: 0, max_body_bytes: 1024, request_timeout_ms: 1000, headers_timeout_ms: 500, max_headers: 50 },
  admin: { enabled: true, token: "admin-token-0001" },
  log: { level: "warn" },
  store: { path: ":memory:" },
  client_keys: [{ name: "app", key: "ck-app-000000000001", limits: { rps: 5, burst: 10 }, budget: { daily_usd: 1 } }],
  limits: { rps: 100 },
  cors: { origins: ["https://a.example"], credentials: false },
  routes: [
    {
      name: "chat",
      surface: "openai",
      models: ["demo", "*"],
      strategy: "round-robin",
      retry: { attempts: 2 },
      targets: [
        { id: "a", provider: "openai", base_url: "http://127.0.0.1:9/v1", key: "${KEY}", weight: 2, limits: { max_concurrent: 4 } },
        { id: "b", provider: "anthropic", base_url: "http://127.0.0.1:9", key: "${MISSING:-sk-default-0001}", model: "claude" },
      ],
    },
    {
      name: "api",
      surface: "rest",
      service: "api",
      targets: [{ id: "r", provider: "rest", base_url: "http://127.0.0.1:9", auth: { type: "query", name: "k" } }],
    },
  ],
};

function outcome(run: () => unknown): "config" | "error" {
  try {
    const c = run();
    assert.ok(Object.isFrozen(c), "a config comes back frozen");
    return "config";
  } catch (err) {
    assert.ok(err instanceof ConfigError, `not a ConfigError: ${(err as Error).stack ?? String(err)}`);
    assert.ok(err.problems.length > 0 && err.problems.every((p) => typeof p === "string" && p.length > 0));
    return "error";
  }
}

test("the valid config the fuzz starts from parses", () => {
  assert.equal(
    outcome(() => parseConfigText(stringify(VALID), "valid.yaml", ENV)),
    "config",
  );
});

test("fuzz: arbitrary text and YAML-shaped text give a Config or a ConfigError", () => {
  const token = fc.constantFrom(
    "routes:",
    "server:",
    "  - ",
    "- name: x\n",
    "  targets: []\n",
    "port: ",
    "${PORT}",
    "${NOPE}",
    "$${x}",
    "&a [1]",
    "*a",
    "<<: *a",
    "!!binary AA==",
    "!!js/function x",
    "? ",
    "{",
    "}",
    "[",
    "]",
    ": ",
    "\n",
    "\t",
    "'",
    '"',
    "#",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "__proto__: ",
    "\uFEFF",
  );
  fc.assert(
    fc.property(fc.array(fc.oneof(token, fc.string({ maxLength: 10 })), { maxLength: 40 }), (parts) => {
      outcome(() => parseConfigText(parts.join(""), "fuzz.yaml", ENV));
    }),
    { seed: 0xc0f, numRuns: 2_000 },
  );
});

test("fuzz: a valid config with fields dropped or of the wrong type, as YAML and as an object", () => {
  let configs = 0;
  fc.assert(
    fc.property(mutated(VALID, 40).map(distinct), (raw) => {
      let yaml: string;
      try {
        yaml = stringify(raw);
      } catch {
        return; // not representable as YAML (the library says so): nothing to parse
      }
      if (outcome(() => parseConfigText(yaml, "fuzz.yaml", ENV, "/tmp")) === "config") configs++;
      outcome(() => parseConfig(raw, "fuzz object"));
    }),
    { seed: 0xc10, numRuns: 1_500 },
  );
  assert.ok(configs > 0, "some mutations are still valid configs (the fuzz reaches past the first checks)");
});

/**
 * The mutations repeat an array's first element: names, ids and models made distinct again
 * (`x`, `x-1`, …), so that duplicates do not refuse nearly every variant before the rest is read.
 */
function distinct(v: unknown): unknown {
  if (Array.isArray(v))
    return v.map((e: unknown, i) => {
      const d = distinct(e);
      if (i === 0) return d;
      if (typeof d === "string") return `${d}-${i}`;
      if (d !== null && typeof d === "object" && !Array.isArray(d)) {
        const o = d as Record<string, unknown>;
        for (const k of ["name", "id"]) if (typeof o[k] === "string") o[k] = `${o[k]}-${i}`;
      }
      return d;
    });
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(v)) out[k] = distinct(e);
    return out;
  }
  return v;
}

test("an alias bomb, deep nesting and __proto__ keys are a ConfigError or a config, never a crash", () => {
  const laughs = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 10; i++)
    laughs.push(
      `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
        .fill(`*${String.fromCharCode(96 + i)}`)
        .join(", ")}]`,
    );
  assert.equal(
    outcome(() => parseConfigText(laughs.join("\n"), "laughs.yaml", ENV)),
    "error",
  );
  const deep = `${"[".repeat(5_000)}${"]".repeat(5_000)}`;
  assert.equal(
    outcome(() => parseConfigText(`routes: ${deep}`, "deep.yaml", ENV)),
    "error",
  );
  assert.equal(
    outcome(() => parseConfigText("__proto__: { routes: [] }\nroutes: []\n", "proto.yaml", ENV)),
    "error",
  );
  assert.equal(
    outcome(() => parseConfigText(`routes: []\nserver: { __proto__: { port: 1 } }\n`, "proto.yaml", ENV)),
    "error",
  );
  assert.equal(({} as { routes?: unknown }).routes, undefined, "no prototype was polluted");
});

test("regression: a __proto__ key is refused by name, not read as the config's own fields through the prototype", () => {
  const route = `routes:\n  - { name: a, surface: rest, service: a, targets: [{ id: r, provider: rest, base_url: "http://127.0.0.1:1" }] }\n`;
  assert.throws(
    () => parseConfigText(`__proto__:\n  log: { level: error }\n${route}`, "proto.yaml", ENV),
    (err: unknown) => err instanceof ConfigError && err.problems.includes('(root): unknown field "__proto__"'),
  );
  assert.throws(
    () => parseConfigText(`server: { __proto__: { port: 1 } }\n${route}`, "proto.yaml", ENV),
    (err: unknown) => err instanceof ConfigError && err.problems.includes('server: unknown field "__proto__"'),
  );
});

test("regression: a field of the wrong type is named as such, not as missing", () => {
  assert.throws(
    () => parseConfigText("server: { host: 5, port: null }\nroutes: 7\n", "types.yaml", ENV),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.problems.includes("server.host: Invalid input: expected string, received number") &&
      err.problems.some((p) => p.startsWith("server.port: ") && !p.endsWith("is required")) &&
      err.problems.some((p) => p.startsWith("routes: ") && !p.endsWith("is required")),
  );
  assert.throws(
    () => parseConfigText("server: {}\n", "missing.yaml", ENV),
    (err: unknown) => err instanceof ConfigError && err.problems.includes("routes: is required"),
  );
});

test("regression: an alias to no anchor is a ConfigError naming the file, not a ReferenceError", () => {
  assert.throws(
    () => parseConfigText("routes: *nowhere\n", "alias.yaml", ENV),
    (err: unknown) => err instanceof ConfigError && err.problems.length === 1 && (err.problems[0] ?? "").startsWith("alias.yaml: "),
  );
});
