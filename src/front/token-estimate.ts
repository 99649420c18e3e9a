import { LRUCache } from "lru-cache";
import type { RequestContext } from "../core/request-context.js";

/**
 * The tokens a request will use, estimated before the call for the tokens-per-minute limits:
 * the input counted with a real BPE tokenizer (gpt-tokenizer, o200k_base: GPT-4o's and later;
 * for other vendors' models a close estimate) plus the most output the client allows. The
 * estimate is taken from the buckets, then corrected from the answer's usage when it ends.
 *
 * The tokenizer's tables are large (~150 ms to load), so they are loaded only once a config has
 * a tpm limit (`loadTokenCounter`), never on the path of a gateway without one. Counting costs
 * about 50 ns a character (bench/inbound-limits.bench.ts), so a request's first EXACT_CHARS of
 * text are counted and the rest extrapolated at the ratio they showed: a 1 MB prompt must not
 * hold the event loop for 50 ms to estimate what its answer will correct anyway.
 */
export type TokenCounter = (text: string) => number;

/** Output reserved when the client sets no maximum (corrected from the answer afterwards). */
export const DEFAULT_MAX_OUTPUT = 1024;
/** What an image, audio or file part is counted as (its bytes are not text). */
const MEDIA_TOKENS = 85;
/** Text counted exactly per request (about 0.25 ms at most); beyond it, tokens per character as measured so far. */
export const EXACT_CHARS = 4096;
/** The ratio assumed when a request's first string is already past the budget (English averages ~4 characters a token). */
const CHARS_PER_TOKEN = 4;
/** OpenAI's chat framing: tokens per message and for priming the reply. */
const PER_MESSAGE = 3;
const PER_REPLY = 3;

/**
 * Texts counted lately and their counts, up to MEMO_CHARS characters in all: a conversation sends
 * its system prompt and whole history again with every turn, and an application its prompt
 * templates with every call, so most of a request's text has been counted before.
 */
const MEMO_CHARS = 4_000_000;
const counted = new LRUCache<string, number>({ maxSize: MEMO_CHARS, sizeCalculation: (_n, text) => Math.max(1, text.length) });

let counter: TokenCounter | null = null;
let loading: Promise<TokenCounter> | null = null;

/** The loaded counter, or null before loadTokenCounter() resolved. */
export function tokenCounter(): TokenCounter | null {
  return counter;
}

/** Loads the tokenizer once (later calls share the promise). */
export function loadTokenCounter(): Promise<TokenCounter> {
  loading ??= import("gpt-tokenizer/encoding/o200k_base").then((m) => {
    // Special-token text in a client's message ("<|endoftext|>") is counted as text, not refused.
    const options = { disallowedSpecial: new Set<string>() };
    counter = (text) => {
      let n = counted.get(text);
      if (n === undefined) {
        n = m.countTokens(text, options);
        counted.set(text, n);
      }
      return n;
    };
    return counter;
  });
  return loading;
}

/** Where the text of a request lives, by field name, in every dialect (OpenAI, Anthropic, Gemini, embeddings). */
const ROOTS = ["messages", "contents", "system", "systemInstruction", "system_instruction", "input", "prompt", "tools"] as const;
/** Fields whose strings are ids, kinds or encodings, not text the model reads. */
const NOT_TEXT = new Set([
  "role",
  "type",
  "id",
  "tool_call_id",
  "tool_use_id",
  "mime_type",
  "mimeType",
  "media_type",
  "file_id",
  "signature",
  "thought_signature",
  "thoughtSignature",
  "detail",
  "cache_control",
  "format",
]);
/** Fields holding media (base64 data, URLs): a fixed count, never tokenized. */
const MEDIA = new Set([
  "image_url",
  "input_audio",
  "file",
  "inlineData",
  "inline_data",
  "fileData",
  "file_data",
  "source",
  "image",
  "audio",
]);

/** Input tokens of the request's body plus its output allowance; 0 for REST (no tokens). */
export function estimateTokens(ctx: RequestContext, count: TokenCounter, defaultMaxOutput = DEFAULT_MAX_OUTPUT): number {
  const json = ctx.json;
  if (json === undefined || ctx.surface === "rest") return 0;
  seen.chars = seen.tokens = 0;
  let n = 0;
  for (const field of ROOTS) {
    const v = json[field];
    if (v === undefined) continue;
    n += tokensOf(v, field, count);
    if ((field === "messages" || field === "contents") && Array.isArray(v)) n += PER_MESSAGE * v.length + PER_REPLY;
  }
  return n + (ctx.endpoint.kind === "embeddings" ? 0 : ctx.maxOutputTokens(defaultMaxOutput));
}

/** What the request's text counted so far: its characters and tokens (one estimate at a time: the step is synchronous). */
const seen = { chars: 0, tokens: 0 };

function textTokens(text: string, count: TokenCounter): number {
  const budget = EXACT_CHARS - seen.chars;
  if (text.length <= budget) {
    const n = count(text);
    seen.chars += text.length;
    seen.tokens += n;
    return n;
  }
  let n = 0;
  if (budget > 0) {
    n = count(text.slice(0, budget));
    seen.chars += budget;
    seen.tokens += n;
  }
  const rest = text.length - Math.max(0, budget);
  const perChar = seen.tokens > 0 ? seen.tokens / seen.chars : 1 / CHARS_PER_TOKEN;
  return n + Math.ceil(rest * perChar);
}

function tokensOf(v: unknown, key: string, count: TokenCounter): number {
  if (typeof v === "string") return v.length === 0 || NOT_TEXT.has(key) ? 0 : textTokens(v, count);
  // Embeddings may send token ids already: one each.
  if (typeof v === "number") return key === "input" ? 1 : 0;
  if (v === null || typeof v !== "object") return 0;
  if (MEDIA.has(key)) return MEDIA_TOKENS;
  let n = 0;
  if (Array.isArray(v)) {
    for (const item of v) n += tokensOf(item, key, count);
    return n;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) n += tokensOf(o[k], k, count);
  return n;
}
