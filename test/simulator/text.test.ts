import { test } from "node:test";
import assert from "node:assert/strict";
import { embed, fakeCompletion, sampleArgs, sayExactly, splitPieces, textOf } from "../../src/simulator/text.js";
import { goDuration } from "../../src/simulator/dialect-openai.js";

test("splitPieces gives n pieces that join back to the text", () => {
  const text = "one two three four five six seven";
  for (const n of [1, 3, 7]) {
    const p = splitPieces(text, n);
    assert.equal(p.length, n);
    assert.equal(p.join(""), text);
  }
  assert.deepEqual(splitPieces("ab", 5), ["a", "b"]);
  assert.equal(splitPieces("Hi there", 4).join(""), "Hi there");
});

test("fake text, tool args and embeddings are deterministic", () => {
  assert.equal(fakeCompletion("  Hello   world ", 4), "Echo: Hello world the");
  assert.equal(fakeCompletion("", 2), "Echo: the");
  assert.deepEqual(
    sampleArgs({
      type: "object",
      properties: {
        a: { type: ["string", "null"] },
        n: { type: "INTEGER" },
        tags: { type: "array", items: { type: "string" } },
        o: { properties: { z: { type: "boolean" } } },
      },
    }),
    {
      a: "sample",
      n: 1,
      tags: ["sample"],
      o: { z: true },
    },
  );
  assert.deepEqual(embed("x", 4), embed("x", 4));
  const v = embed("y", 16);
  assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-3);
  assert.equal(sayExactly("Please say exactly: Ciao!"), "Ciao!");
  assert.equal(textOf([{ type: "text", text: "a" }, { type: "image" }, "b"]), "a\nb");
});

test("goDuration formats like OpenAI's reset headers", () => {
  assert.equal(goDuration(12), "12ms");
  assert.equal(goDuration(1000), "1s");
  assert.equal(goDuration(1500), "1.5s");
  assert.equal(goDuration(360_000), "6m0s");
  assert.equal(goDuration(3_723_000), "1h2m3s");
});
