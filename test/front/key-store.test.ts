import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "../../src/state/database.js";
import { KeyStore, type StoredKey } from "../../src/front/key-store.js";
import { ClientKeyRegistry, sha256Hex } from "../../src/front/client-keys.js";
import { parseConfig } from "../../src/config/load.js";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "switchyard-keys-"));
}

const silent = { error: () => undefined };

function stored(name: string, extra: Partial<StoredKey> = {}): StoredKey {
  return {
    name,
    sha256: sha256Hex(`secret-of-${name}`),
    display: "****abcd",
    routes: undefined,
    models: undefined,
    limits: {},
    budget: undefined,
    priority: undefined,
    expires_at: undefined,
    disabled: false,
    metadata: {},
    created_at: 1_700_000_000_000,
    ...extra,
  };
}

const config = parseConfig(
  {
    routes: [
      { name: "chat", surface: "openai", models: ["demo"], targets: [{ id: "t", provider: "openai", base_url: "http://127.0.0.1:9" }] },
    ],
  },
  "test",
);

test("key store: its migration runs once, and keys round-trip every field", () => {
  const db = Database.open(":memory:");
  const store = new KeyStore(db);
  new KeyStore(db); // a second open of the same file: the migration is not run again
  assert.deepEqual(db.migrations(), ["keys/001-client-keys"]);
  const full = stored("full", {
    routes: ["chat"],
    models: ["demo", "other"],
    limits: { rps: 5, burst: 10, tpm: 1000 },
    budget: { daily_usd: 1.5 },
    priority: "high",
    expires_at: "2030-01-01T00:00:00Z",
    disabled: true,
    metadata: { team: "search" },
  });
  store.insert(full);
  store.insert(stored("bare", { created_at: 1_700_000_000_001 }));
  assert.deepEqual(store.all(), [full, stored("bare", { created_at: 1_700_000_000_001 })]);
  store.close();
});

test("key store: a taken name or secret is refused; update and delete say whether the key existed", () => {
  const store = new KeyStore(Database.open(":memory:"));
  store.insert(stored("a"));
  assert.throws(() => store.insert(stored("a", { sha256: sha256Hex("another") })), /UNIQUE/);
  assert.throws(() => store.insert(stored("b", { sha256: sha256Hex("secret-of-a") })), /UNIQUE/);
  assert.equal(store.update(stored("a", { disabled: true, models: ["demo"] })), true);
  assert.equal(store.update(stored("nobody")), false);
  assert.deepEqual(
    store.all().map((k) => [k.name, k.disabled, k.models]),
    [["a", true, ["demo"]]],
  );
  assert.equal(store.delete("a"), true);
  assert.equal(store.delete("a"), false);
  assert.deepEqual(store.all(), []);
  store.close();
});

test("key store: keys made through the registry outlive a restart, and the file never holds a secret", () => {
  const dir = tempDir();
  const path = join(dir, "switchyard.db");
  try {
    const first = new ClientKeyRegistry({ config }, KeyStore.open(path, silent));
    const { secret } = first.create({ name: "ci", models: ["demo"] });
    void first.close();

    const again = new ClientKeyRegistry({ config }, KeyStore.open(path, silent));
    assert.equal(again.enabled, true);
    assert.equal(again.find(secret)?.name, "ci");
    assert.deepEqual([...(again.find(secret)?.models ?? [])], ["demo"]);
    void again.close();
    // Every file SQLite wrote (the database, and a WAL if one is left): the secret is in none.
    for (const f of readdirSync(dir)) assert.equal(readFileSync(join(dir, f)).includes(secret), false, f);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("key store: a store file that cannot be opened is logged and memory used", () => {
  const dir = tempDir();
  try {
    const errors: string[] = [];
    // A folder where the file should be: SQLite cannot open it.
    const store = KeyStore.open(dir, { error: (_obj, msg) => errors.push(msg) });
    assert.equal(store.path, ":memory:");
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? "", /client keys made through the admin API are kept in memory/);
    store.insert(stored("mem"));
    assert.equal(store.all().length, 1);
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
