import type { ChatCompletionChunk, FinishReason, Usage } from "../../src/providers/canonical.js";
import { SseParser, type SseEvent, encodeSse } from "../../src/providers/sse.js";
import type { FromCanonicalStream, ToCanonicalStream } from "../../src/providers/stream.js";

/** Raw SSE text as a provider would write it. */
export function wire(events: SseEvent[]): Buffer {
  return Buffer.from(events.map(encodeSse).join(""), "utf8");
}

/** Feeds `bytes` to the parser in pieces cut at `every` bytes, through `t`, and ends it. */
export function runUpstream(t: ToCanonicalStream, bytes: Buffer, every: number): ChatCompletionChunk[] {
  const p = new SseParser();
  const out: ChatCompletionChunk[] = [];
  for (let i = 0; i < bytes.length; i += every) for (const ev of p.push(bytes.subarray(i, i + every))) out.push(...t.push(ev));
  for (const ev of p.end()) out.push(...t.push(ev));
  out.push(...t.end());
  return out;
}

/** Runs canonical chunks through a client-side translator, then end(). */
export function runClient(t: FromCanonicalStream, chunks: ChatCompletionChunk[]): SseEvent[] {
  const out: SseEvent[] = [];
  for (const c of chunks) out.push(...t.push(structuredClone(c)));
  out.push(...t.end());
  return out;
}

export interface Assembled {
  text: string[];
  tools: { id?: string; name: string; args: string }[][];
  finish: (FinishReason | null)[];
  usage: Usage | null;
}

/** What a client's accumulator makes of canonical chunks: per choice, its text, tool calls, finish. */
export function assemble(chunks: ChatCompletionChunk[]): Assembled {
  const a: Assembled = { text: [], tools: [], finish: [], usage: null };
  for (const c of chunks) {
    if (c.usage) a.usage = c.usage;
    for (const ch of c.choices) {
      const i = ch.index;
      a.text[i] ??= "";
      a.tools[i] ??= [];
      a.finish[i] ??= null;
      if (ch.delta.content) a.text[i] += ch.delta.content;
      for (const tc of ch.delta.tool_calls ?? []) {
        const slot = (a.tools[i][tc.index] ??= { name: "", args: "" });
        if (tc.id) slot.id = tc.id;
        if (tc.function?.name) slot.name += tc.function.name;
        if (tc.function?.arguments) slot.args += tc.function.arguments;
      }
      if (ch.finish_reason) a.finish[i] = ch.finish_reason;
    }
  }
  return a;
}

/** Builds canonical chunks the way an OpenAI stream arrives: role, text pieces, tool-call fragments, finish, usage. */
export function openaiChunks(opts: {
  texts: string[];
  tools?: { id: string; name: string; fragments: string[] }[];
  finish: FinishReason;
  usage?: Usage;
}): ChatCompletionChunk[] {
  const base = { id: "chatcmpl-1", object: "chat.completion.chunk" as const, created: 1700000000, model: "gpt-4o-mini" };
  const out: ChatCompletionChunk[] = [{ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] }];
  for (const t of opts.texts) out.push({ ...base, choices: [{ index: 0, delta: { content: t }, finish_reason: null }] });
  (opts.tools ?? []).forEach((tool, k) => {
    out.push({
      ...base,
      choices: [
        {
          index: 0,
          delta: { tool_calls: [{ index: k, id: tool.id, type: "function", function: { name: tool.name, arguments: "" } }] },
          finish_reason: null,
        },
      ],
    });
    for (const f of tool.fragments)
      out.push({
        ...base,
        choices: [{ index: 0, delta: { tool_calls: [{ index: k, function: { arguments: f } }] }, finish_reason: null }],
      });
  });
  out.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: opts.finish }] });
  if (opts.usage) out.push({ ...base, choices: [], usage: opts.usage });
  return out;
}
