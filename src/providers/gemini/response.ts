import type { ChatCompletion, Choice, ToolCall } from "../canonical.js";
import { isRecord } from "../errors.js";
import { newId, nowSeconds } from "../ids.js";
import { finishFromGemini, finishToGemini } from "./finish-reason.js";
import type { GeminiCandidate, GeminiFunctionCall, GeminiPart, GeminiResponse } from "./types.js";
import { usageFromGemini, usageToGemini } from "./usage.js";
import { UpstreamFormatError } from "../../errors.js";

/**
 * An upstream GenerateContentResponse → canonical. Candidates become choices; thought parts are
 * dropped; function calls get ids (Gemini's own when it sends them) and keep their
 * thoughtSignature in `extra_content`. A prompt blocked outright becomes one content_filter choice.
 */
export function fromGeminiResponse(body: unknown): ChatCompletion {
  if (!isRecord(body) || (body.candidates !== undefined && !Array.isArray(body.candidates)))
    throw new UpstreamFormatError("expected a GenerateContentResponse");
  const r = body as GeminiResponse;
  const choices: Choice[] = [];
  const cands = r.candidates ?? [];
  for (let i = 0; i < cands.length; i++) {
    const c: unknown = cands[i];
    if (!isRecord(c)) throw new UpstreamFormatError(`candidates[${i}] is not an object`);
    choices.push(choiceFrom(c, i));
  }
  if (choices.length === 0) {
    // No candidate is an answer only when the prompt was blocked; otherwise ({}, {"error": …} with a 200) it is not one.
    if (!r.promptFeedback?.blockReason)
      throw new UpstreamFormatError(isRecord(body.error) ? "a 2xx answer carrying an error" : "the answer has no candidates");
    choices.push({
      index: 0,
      message: { role: "assistant", content: null, refusal: null },
      finish_reason: "content_filter",
      logprobs: null,
    });
  }
  return {
    id: r.responseId ?? newId("chatcmpl-"),
    object: "chat.completion",
    created: nowSeconds(),
    model: r.modelVersion ?? "",
    choices,
    usage: usageFromGemini(r.usageMetadata),
  };
}

function choiceFrom(c: GeminiCandidate, i: number): Choice {
  let text: string | null = null;
  let calls: ToolCall[] | undefined;
  for (const p of c.content?.parts ?? []) {
    if (p.thought) continue;
    if (typeof p.text === "string") text = text === null ? p.text : text + p.text;
    else if (p.functionCall) (calls ??= []).push(toolCallFrom(p.functionCall, p.thoughtSignature));
  }
  const choice: Choice = {
    index: c.index ?? i,
    message: { role: "assistant", content: text, refusal: null },
    finish_reason: finishFromGemini(c.finishReason, calls !== undefined),
    logprobs: null,
  };
  if (calls) choice.message.tool_calls = calls;
  return choice;
}

/** A part's functionCall (with the part's thoughtSignature) as a canonical tool call. */
export function toolCallFrom(fc: GeminiFunctionCall, thoughtSignature: string | undefined): ToolCall {
  const call: ToolCall = {
    id: fc.id ?? newId("call_"),
    type: "function",
    function: { name: fc.name, arguments: JSON.stringify(fc.args ?? {}) },
  };
  if (thoughtSignature) call.extra_content = { google: { thought_signature: thoughtSignature } };
  return call;
}

/** Canonical → the GenerateContentResponse a Gemini client gets. */
export function toGeminiResponse(c: ChatCompletion, model?: string): GeminiResponse {
  const candidates: GeminiCandidate[] = [];
  for (const ch of c.choices) {
    const parts: GeminiPart[] = [];
    const m = ch.message;
    if (m.content) parts.push({ text: m.content });
    else if (m.refusal) parts.push({ text: m.refusal });
    if (m.tool_calls)
      for (const t of m.tool_calls)
        parts.push(functionCallPart(t.id, t.function.name, t.function.arguments, t.extra_content?.google?.thought_signature));
    const cand: GeminiCandidate = { content: { role: "model", parts }, index: ch.index };
    const fr = finishToGemini(ch.finish_reason);
    if (fr) cand.finishReason = fr;
    candidates.push(cand);
  }
  const out: GeminiResponse = { candidates, modelVersion: model ?? c.model, responseId: c.id };
  const u = usageToGemini(c.usage);
  if (u) out.usageMetadata = u;
  return out;
}

/** A whole functionCall part from canonical pieces. Unparseable arguments survive as `_raw_arguments`. */
export function functionCallPart(id: string, name: string, args: string, signature: string | undefined): GeminiPart {
  let parsed: Record<string, unknown> = {};
  if (args.trim() !== "") {
    try {
      const v: unknown = JSON.parse(args);
      parsed = isRecord(v) ? v : { _raw_arguments: args };
    } catch {
      parsed = { _raw_arguments: args };
    }
  }
  const part: GeminiPart = { functionCall: { id, name, args: parsed } };
  if (signature) part.thoughtSignature = signature;
  return part;
}
