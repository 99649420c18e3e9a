import type { ChatCompletion, ChatCompletionChunk, ChunkChoice, ChunkDelta, ToolCallDelta } from "../providers/canonical.js";

/**
 * A whole canonical completion as the canonical chunks a live stream of it would have carried,
 * so a stored answer can be streamed through any client dialect's stream translator:
 *
 *   per choice:  role ─► content (one delta) ─► refusal ─► one delta per tool call (whole) ─► finish
 *   then:        one usage chunk with no choices (OpenAI's include_usage shape), when there is usage
 *
 * Choices follow one another (never interleaved) and each tool call is one delta at a rising
 * index: the shapes every client translator accepts (an Anthropic client cannot resume a block).
 */
export function completionChunks(c: ChatCompletion): ChatCompletionChunk[] {
  const out: ChatCompletionChunk[] = [];
  for (const choice of c.choices) {
    const m = choice.message;
    const index = choice.index;
    out.push(chunk(c, index, { role: "assistant", content: m.content === null ? null : "" }, null));
    if (m.content) out.push(chunk(c, index, { content: m.content }, null));
    if (m.refusal) out.push(chunk(c, index, { refusal: m.refusal }, null));
    const calls = m.tool_calls;
    if (calls) {
      for (let k = 0; k < calls.length; k++) {
        const call = calls[k];
        if (call === undefined) continue;
        const tc: ToolCallDelta = {
          index: k,
          id: call.id,
          type: "function",
          function: { name: call.function.name, arguments: call.function.arguments },
        };
        if (call.extra_content) tc.extra_content = call.extra_content;
        out.push(chunk(c, index, { tool_calls: [tc] }, null));
      }
    }
    if (choice.finish_reason) out.push(chunk(c, index, {}, choice.finish_reason));
  }
  if (c.usage) {
    const last: ChatCompletionChunk = {
      id: c.id,
      object: "chat.completion.chunk",
      created: c.created,
      model: c.model,
      choices: [],
      usage: c.usage,
    };
    if (c.system_fingerprint != null) last.system_fingerprint = c.system_fingerprint;
    out.push(last);
  }
  return out;
}

function chunk(c: ChatCompletion, index: number, delta: ChunkDelta, finish: ChunkChoice["finish_reason"]): ChatCompletionChunk {
  const out: ChatCompletionChunk = {
    id: c.id,
    object: "chat.completion.chunk",
    created: c.created,
    model: c.model,
    choices: [{ index, delta, finish_reason: finish }],
  };
  if (c.system_fingerprint != null) out.system_fingerprint = c.system_fingerprint;
  return out;
}
