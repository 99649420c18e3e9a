import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database, StoreOpenError } from "../../src/state/database.js";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "switchyard-db-"));
}

test("migrations: each name runs once, in order, and is remembered across reopening the file", () => {
  const dir = tempDir();
  const path = join(dir, "store.db");
  try {
    const db = Database.open(path);
    assert.equal(db.migrate("notes/001-table", "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)"), true);
    assert.equal(db.migrate("notes/002-column", "ALTER TABLE notes ADD COLUMN at INTEGER"), true);
    // Run again: skipped (running it would fail: the table and column exist).
    assert.equal(db.migrate("notes/001-table", "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)"), false);
    assert.equal(db.migrate("notes/002-column", "ALTER TABLE notes ADD COLUMN at INTEGER"), false);
    db.handle.prepare("INSERT INTO notes (text, at) VALUES (?, ?)").run("kept", 1);
    db.close();

    const again = Database.open(path);
    assert.equal(again.migrate("notes/001-table", "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)"), false);
    assert.equal(again.migrate("notes/002-column", "ALTER TABLE notes ADD COLUMN at INTEGER"), false);
    assert.deepEqual(again.migrations(), ["notes/001-table", "notes/002-column"]);
    assert.deepEqual(again.handle.prepare("SELECT text, at FROM notes").all(), [{ text: "kept", at: 1 }]);
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("migrations: one that fails is rolled back and not recorded, so a fixed one runs", () => {
  const db = Database.open(":memory:");
  try {
    assert.throws(() => db.migrate("bad/001", "CREATE TABLE half (a INTEGER); CREATE TABLE broken ("), /syntax error|incomplete input/);
    assert.deepEqual(db.migrations(), []);
    assert.equal(db.handle.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get(), undefined);
    assert.equal(db.migrate("bad/001", "CREATE TABLE half (a INTEGER)"), true);
    assert.deepEqual(db.migrations(), ["bad/001"]);
  } finally {
    db.close();
  }
});

test("a file store: its folder is created, WAL, synchronous NORMAL and a busy timeout are set", () => {
  const dir = tempDir();
  const path = join(dir, "nested", "deeper", "store.db");
  try {
    const db = Database.open(path);
    assert.ok(existsSync(path));
    assert.equal(db.path, path);
    assert.equal(db.handle.pragma("journal_mode", { simple: true }), "wal");
    assert.equal(db.handle.pragma("synchronous", { simple: true }), 1); // NORMAL
    assert.ok(Number(db.handle.pragma("busy_timeout", { simple: true })) > 0);
    assert.equal(db.isOpen, true);
    db.close();
    db.close(); // twice is harmless
    assert.equal(db.isOpen, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("no path, or :memory:, opens a private in-memory store", () => {
  for (const db of [Database.open(), Database.open(":memory:")]) {
    assert.equal(db.path, ":memory:");
    assert.equal(db.migrate("m/001", "CREATE TABLE t (a INTEGER)"), true);
    db.close();
  }
});

test("an unopenable store path gives an error naming the path and SQLite's reason", () => {
  const dir = tempDir();
  try {
    // A directory.
    assert.throws(
      () => Database.open(dir),
      (err: unknown) =>
        err instanceof StoreOpenError && err.path === dir && err.message.includes(dir) && /unable to open database file/.test(err.message),
    );
    // A file that is not a database: found at open time, not on the first request.
    const corrupt = join(dir, "corrupt.db");
    writeFileSync(corrupt, "this is not an SQLite database, only text standing where its header should be".repeat(20));
    assert.throws(
      () => Database.open(corrupt),
      (err: unknown) => err instanceof StoreOpenError && err.message.includes(corrupt) && /file is not a database/.test(err.message),
    );
    // A folder that cannot be made (a file stands in the way).
    const blocked = join(corrupt, "inside", "store.db");
    assert.throws(
      () => Database.open(blocked),
      (err: unknown) => err instanceof StoreOpenError && err.message.includes(blocked) && /ENOTDIR|EEXIST/.test(err.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
