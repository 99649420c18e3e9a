/**
 * Fake model output: completion text, token counts, tool-call arguments and embedding vectors.
 * All deterministic from the request, so a test can predict what comes back.
 */

const FILLER = (
  "the quick brown fox jumps over the lazy dog while a simulated model keeps talking " +
  "about nothing in particular so that every answer has a predictable length"
).split(" ");

/** Text of a message content in any dialect's shape: a string, or parts/blocks with `text`. */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    let out = "";
    for (const part of content) {
      const t = textOf(part);
      if (t !== "") out = out === "" ? t : `${out}\n${t}`;
    }
    return out;
  }
  if (content !== null && typeof content === "object") {
    const o = content as Record<string, unknown>;
    if (typeof o.text === "string") return o.text;
    if (o.parts !== undefined) return textOf(o.parts);
    if (o.content !== undefined) return textOf(o.content);
  }
  return "";
}

/** Rough token count of text, ≈ chars / 4 like the providers' rule of thumb. */
export function estimateTokens(chars: number): number {
  return chars <= 0 ? 0 : Math.ceil(chars / 4);
}

/**
 * The fake completion: "Echo: <first 40 chars of the user text>" then filler words until the
 * answer has `words` words (never cut short: the echo is what tests look for).
 */
export function fakeCompletion(userText: string, words: number): string {
  const snippet = userText.replace(/\s+/g, " ").trim().slice(0, 40);
  const out = snippet === "" ? ["Echo:"] : ["Echo:", ...snippet.split(" ")];
  for (let i = 0; out.length < words; i++) {
    const w = FILLER[i % FILLER.length];
    if (w === undefined) break; // no filler words: never loop forever
    out.push(w);
  }
  return out.join(" ");
}

/** Words in text, the output-token count of a fake completion. */
export function countWords(text: string): number {
  const m = text.match(/\S+/g);
  return m === null ? 0 : m.length;
}

/**
 * Splits text into n pieces for stream chunks, at word boundaries when there are enough words
 * (pieces keep their trailing spaces, so joining them gives the text back); fewer than n
 * pieces only if the text is shorter than n characters.
 */
export function splitPieces(text: string, n: number): string[] {
  if (text === "") return [""];
  const words = text.match(/\S+\s*|\s+/g) ?? [text];
  const out: string[] = [];
  if (words.length >= n) {
    for (let i = 0; i < n; i++) {
      const from = Math.floor((i * words.length) / n);
      const to = Math.floor(((i + 1) * words.length) / n);
      out.push(words.slice(from, to).join(""));
    }
    return out;
  }
  const parts = Math.min(n, text.length);
  for (let i = 0; i < parts; i++) {
    out.push(text.slice(Math.floor((i * text.length) / parts), Math.floor(((i + 1) * text.length) / parts)));
  }
  return out;
}

/** Arguments for a tool call, built from the tool's JSON schema (Gemini's upper-case types too). */
export function sampleArgs(schema: unknown): Record<string, unknown> {
  const v = sampleValue(schema, 0);
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function sampleValue(schema: unknown, depth: number): unknown {
  if (schema === null || typeof schema !== "object" || depth > 6) return "sample";
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  if (s.const !== undefined) return s.const;
  let type = s.type;
  if (Array.isArray(type)) type = type.find((t) => t !== "null" && t !== "NULL");
  if (type === undefined && s.properties !== undefined) type = "object";
  if (Array.isArray(s.anyOf) && type === undefined) return sampleValue(s.anyOf[0], depth + 1);
  switch (typeof type === "string" ? type.toLowerCase() : "string") {
    case "object": {
      const out: Record<string, unknown> = {};
      const props = s.properties;
      if (props !== null && typeof props === "object") {
        for (const [k, sub] of Object.entries(props as Record<string, unknown>)) out[k] = sampleValue(sub, depth + 1);
      }
      return out;
    }
    case "array":
      return [sampleValue(s.items, depth + 1)];
    case "integer":
    case "number":
      return typeof s.minimum === "number" ? s.minimum : 1;
    case "boolean":
      return true;
    case "null":
      return null;
    default:
      return "sample";
  }
}

/** A small unit vector derived from the text (FNV-1a seeded xorshift): same input, same vector. */
export function embed(text: string, dims: number): number[] {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  let x = h >>> 0 || 1;
  const v: number[] = new Array<number>(dims);
  let norm = 0;
  for (let i = 0; i < dims; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const f = x / 4294967296 - 0.5;
    v[i] = f;
    norm += f * f;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < dims; i++) v[i] = Math.round(((v[i] ?? 0) / norm) * 1e6) / 1e6;
  return v;
}

/** Float32 little-endian bytes in base64: OpenAI's `encoding_format: "base64"`. */
export function embeddingBase64(v: number[]): string {
  const buf = Buffer.allocUnsafe(v.length * 4);
  let offset = 0;
  for (const x of v) {
    buf.writeFloatLE(x, offset);
    offset += 4;
  }
  return buf.toString("base64");
}

/** "say exactly: X" in a system prompt (or the user text) makes the answer exactly X. */
export function sayExactly(text: string): string | undefined {
  const m = /say exactly:\s*([\s\S]*\S)/i.exec(text);
  return m === null ? undefined : m[1];
}
