import type { ChatCompletion, Choice, ToolCall } from "../canonical.js";
import { isRecord } from "../errors.js";
import { newId, nowSeconds } from "../ids.js";
import { finishFromAnthropic, finishToAnthropic } from "./stop-reason.js";
import type { AnthropicContentBlock, AnthropicResponse } from "./types.js";
import { usageFromAnthropic, usageToAnthropic } from "./usage.js";
import { UpstreamFormatError } from "../../errors.js";

/** An upstream Anthropic message → canonical. Text blocks are concatenated; thinking is dropped. */
export function fromAnthropicResponse(body: unknown): ChatCompletion {
  if (!isRecord(body) || body.type !== "message" || !Array.isArray(body.content))
    throw new UpstreamFormatError("expected an Anthropic message");
  const r = body as unknown as AnthropicResponse;
  let text: string | null = null;
  let calls: ToolCall[] | undefined;
  for (const b of r.content) {
    if (b.type === "text") text = text === null ? b.text : text + b.text;
    else if (b.type === "tool_use")
      (calls ??= []).push({ id: b.id, type: "function", function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } });
  }
  const choice: Choice = {
    index: 0,
    message: { role: "assistant", content: text, refusal: null },
    finish_reason: finishFromAnthropic(r.stop_reason),
    logprobs: null,
  };
  if (calls) choice.message.tool_calls = calls;
  return {
    id: r.id,
    object: "chat.completion",
    created: nowSeconds(),
    model: r.model,
    choices: [choice],
    usage: usageFromAnthropic(r.usage),
  };
}

/**
 * Canonical → the message an Anthropic client gets. Only the first choice (an Anthropic client
 * never asks for more). Tool arguments that are not a JSON object (a model's malformed output)
 * are passed as `{"_raw_arguments": "<text>"}` rather than lost.
 */
export function toAnthropicResponse(c: ChatCompletion, model?: string): AnthropicResponse {
  const choice = c.choices[0];
  const content: AnthropicContentBlock[] = [];
  const msg = choice?.message;
  if (msg?.content) content.push({ type: "text", text: msg.content });
  else if (msg?.refusal) content.push({ type: "text", text: msg.refusal });
  if (msg?.tool_calls)
    for (const t of msg.tool_calls)
      content.push({ type: "tool_use", id: t.id, name: t.function.name, input: toolInput(t.function.arguments) });
  return {
    id: c.id.startsWith("msg_") ? c.id : newId("msg_"),
    type: "message",
    role: "assistant",
    model: model ?? c.model,
    content,
    stop_reason: finishToAnthropic(choice?.finish_reason) ?? "end_turn",
    stop_sequence: null,
    usage: usageToAnthropic(c.usage),
  };
}

export function toolInput(args: string): Record<string, unknown> {
  if (args.trim() === "") return {};
  try {
    const v: unknown = JSON.parse(args);
    if (isRecord(v)) return v;
  } catch {
    // fall through
  }
  return { _raw_arguments: args };
}
