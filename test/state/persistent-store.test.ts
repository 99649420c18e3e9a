import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "../../src/state/database.js";
import { PersistentStore, type PersistentStoreOptions } from "../../src/state/persistent-store.js";
import { stateOp } from "../../src/state/state-store.js";
import { BREAKER_OPS, type BreakerState } from "../../src/resilience/circuit-breaker.js";
import { KEY_OPS, type KeyState } from "../../src/resilience/key-disable.js";
import { until } from "../helpers/wait.js";

const CLOSED: BreakerState = { state: "closed", consecutive_failures: 0 };
const ENABLED: KeyState = { disabled: false, reason: null, detail: "", since: 0 };
const NEVER = 3_600_000;

/** A temp folder with one store file; removed after `fn`, whatever happens. */
async function withFile(fn: (path: string) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-state-"));
  try {
    await fn(join(dir, "state.db"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function open(path: string, options: PersistentStoreOptions = {}) {
  const db = Database.open(path);
  const store = new PersistentStore(db, { flushMs: NEVER, ...options });
  return { db, store, close: async () => (await store.close(), db.close()) };
}

function rows(db: Database): Record<string, unknown> {
  const all = db.handle.prepare("SELECT key, value FROM state_cells ORDER BY key").all() as { key: string; value: string }[];
  return Object.fromEntries(all.map((r) => [r.key, JSON.parse(r.value)]));
}

test("cells survive close and reopen: an open breaker with its expiry, a disabled key with its reason", async () => {
  await withFile(async (path) => {
    const a = open(path);
    const breaker = a.store.cell<BreakerState>("breaker/chat/t0", CLOSED);
    const key = a.store.cell<KeyState>("key/chat/t1", ENABLED);
    const untouched = a.store.cell<BreakerState>("breaker/chat/t1", CLOSED);
    a.store.apply(breaker, BREAKER_OPS.open, { from: "closed", until: 1_700_000_060_000 }, 1_700_000_000_000);
    a.store.apply(key, KEY_OPS.disable, { reason: "auth", detail: "401 from upstream" }, 1_700_000_000_500);
    assert.equal(untouched.value, CLOSED);
    await a.close();

    const b = open(path);
    try {
      assert.deepEqual(b.store.cell("breaker/chat/t0", CLOSED).value, { state: "open", open_until: 1_700_000_060_000, openings: 1 });
      assert.deepEqual(b.store.cell("key/chat/t1", ENABLED).value, {
        disabled: true,
        reason: "auth",
        detail: "401 from upstream",
        since: 1_700_000_000_500,
      });
      // Never changed: no row, so the initial state it is asked with is its state.
      assert.deepEqual(Object.keys(rows(b.db)), ["breaker/chat/t0", "key/chat/t1"]);
      assert.equal(b.store.cell("breaker/chat/t1", CLOSED).value, CLOSED);
      // The restored cell goes on changing like any other.
      const c = b.store.cell<BreakerState>("breaker/chat/t0", CLOSED);
      b.store.apply(c, BREAKER_OPS.halfOpen, false, 1_700_000_060_000);
      assert.equal(c.value.state, "half_open");
    } finally {
      await b.close();
    }
  });
});

test("writes are behind: a change is in memory at once, in the file at the next flush (one transaction), never before", async () => {
  await withFile(async (path) => {
    const { db, store, close } = open(path);
    try {
      const a = store.cell<KeyState>("key/chat/a", ENABLED);
      const b = store.cell<KeyState>("key/chat/b", ENABLED);
      store.apply(a, KEY_OPS.disable, { reason: "operator", detail: "disabled by operator" }, 1000);
      store.apply(b, KEY_OPS.disable, { reason: "quota", detail: "402 from upstream" }, 1000);
      assert.equal(a.value.disabled, true);
      assert.deepEqual(rows(db), {});
      store.flush();
      assert.deepEqual(Object.keys(rows(db)), ["key/chat/a", "key/chat/b"]);

      // No change (the op returns the same state): nothing to write.
      const before = db.handle.prepare("SELECT updated_at FROM state_cells WHERE key = 'key/chat/a'").get();
      store.apply(a, KEY_OPS.disable, { reason: "failure_rate", detail: "again" }, 2000);
      store.flush();
      assert.deepEqual(db.handle.prepare("SELECT updated_at FROM state_cells WHERE key = 'key/chat/a'").get(), before);

      // Back to its initial state: the row goes (an enabled key needs none).
      store.apply(
        a,
        stateOp<KeyState>("test.reset", () => ENABLED),
        undefined,
        3000,
      );
      store.flush();
      assert.deepEqual(Object.keys(rows(db)), ["key/chat/b"]);
    } finally {
      await close();
    }
  });
});

test("the flush timer writes changes by itself", async () => {
  await withFile(async (path) => {
    const { db, store, close } = open(path, { flushMs: 20 });
    try {
      const c = store.cell("slow_start/chat/t0", 0);
      store.apply(
        c,
        stateOp<number>("test.begin", (_s, _a, now) => now),
        undefined,
        42,
      );
      assert.ok(await until(() => rows(db)["slow_start/chat/t0"] === 42, 2000), "written by the timer");
    } finally {
      await close();
    }
  });
});

test("close writes what changed since the last flush, then runs onClose", async () => {
  await withFile(async (path) => {
    const order: string[] = [];
    let db!: Database;
    const store = new PersistentStore((db = Database.open(path)), {
      flushMs: NEVER,
      onClose: () => {
        order.push(`onClose sees ${Object.keys(rows(db)).join(",")}`);
        db.close();
      },
    });
    store.apply(store.cell<BreakerState>("breaker/chat/t0", CLOSED), BREAKER_OPS.set, { state: "forced_open" }, 1);
    await store.close();
    await store.close(); // twice is harmless
    assert.deepEqual(order, ["onClose sees breaker/chat/t0"]);
    assert.equal(db.isOpen, false);
  });
});

test("forgetTarget deletes that target's rows at once, and only its own", async () => {
  await withFile(async (path) => {
    const { db, store, close } = open(path);
    try {
      for (const key of ["breaker/chat/t1", "key/chat/t1", "rate_limit/chat/t1", "key/chat/t10", "key/other/t1", "key/chat/x/t1"])
        store.apply(store.cell<KeyState>(key, ENABLED), KEY_OPS.disable, { reason: "operator", detail: key }, 1);
      store.flush();
      const held = store.cell<KeyState>("key/chat/t1", ENABLED);
      store.forgetTarget("chat", "t1");
      assert.deepEqual(Object.keys(rows(db)), ["key/chat/t10", "key/chat/x/t1", "key/other/t1"]);
      // A retiring policy still holding the forgotten cell does not write it back.
      store.apply(held, KEY_OPS.enable, undefined, 2);
      store.apply(held, KEY_OPS.disable, { reason: "auth", detail: "late" }, 3);
      store.flush();
      assert.equal(rows(db)["key/chat/t1"], undefined);
      // Asked for again (the target came back): a fresh cell from its initial state.
      assert.equal(store.cell("key/chat/t1", ENABLED).value, ENABLED);
    } finally {
      await close();
    }
  });
});

test("a saved state that is not JSON is ignored with a warning; the others load, and forgetTarget removes it", async () => {
  await withFile(async (path) => {
    const db = Database.open(path);
    await new PersistentStore(db, { flushMs: NEVER }).close(); // creates the table
    const insert = db.handle.prepare("INSERT INTO state_cells (key, value, updated_at) VALUES (?, ?, 1)");
    insert.run("key/chat/t0", "{not json");
    insert.run("key/chat/t1", JSON.stringify({ disabled: true, reason: "operator", detail: "by hand", since: 5 }));
    db.close();

    const warnings: string[] = [];
    const { db: db2, store, close } = open(path, { onUnreadable: (key, err) => warnings.push(`${key}: ${err.name}`) });
    try {
      assert.deepEqual(warnings, ["key/chat/t0: SyntaxError"]);
      assert.equal(store.cell("key/chat/t0", ENABLED).value, ENABLED);
      assert.equal(store.cell<KeyState>("key/chat/t1", ENABLED).value.reason, "operator");
      store.forgetTarget("chat", "t0");
      assert.deepEqual(
        (db2.handle.prepare("SELECT key FROM state_cells").all() as { key: string }[]).map((r) => r.key),
        ["key/chat/t1"],
      );
    } finally {
      await close();
    }
  });
});

test("a failed write is reported once, never thrown, and its changes are written by a later flush", async () => {
  await withFile(async (path) => {
    const errors: string[] = [];
    const { db, store, close } = open(path, { onError: (err) => errors.push(err.message) });
    try {
      const c = store.cell<KeyState>("key/chat/t0", ENABLED);
      db.handle.exec("ALTER TABLE state_cells RENAME TO state_cells_away");
      store.apply(c, KEY_OPS.disable, { reason: "operator", detail: "x" }, 1);
      store.flush();
      store.apply(c, KEY_OPS.enable, undefined, 2);
      store.apply(c, KEY_OPS.disable, { reason: "auth", detail: "401 from upstream" }, 3);
      store.flush();
      assert.equal(errors.length, 1, errors.join("; "));
      assert.match(errors[0]!, /no such table/);
      db.handle.exec("ALTER TABLE state_cells_away RENAME TO state_cells");
      store.flush();
      assert.deepEqual(rows(db), { "key/chat/t0": { disabled: true, reason: "auth", detail: "401 from upstream", since: 3 } });
    } finally {
      await close();
    }
  });
});
