import { isRecord } from "../errors.js";
import { isStreamIndex } from "../stream.js";

function optionalString(v: unknown): boolean {
  return v === undefined || v === null || typeof v === "string";
}

/**
 * Why an upstream's OpenAI stream chunk cannot go on as a canonical chunk, or "" when it can. The
 * client translators read a chunk's fields as typed: one of the wrong type is the upstream's
 * malformed stream, not a gateway crash. Only fields they read are checked; a missing delta
 * becomes an empty one (some compatible servers leave it off the finishing chunk). No allocation
 * for a well-formed chunk.
 */
export function chunkProblem(obj: Record<string, unknown>): string {
  const choices = obj.choices;
  if (!Array.isArray(choices)) return "chunk without choices";
  for (const c of choices) {
    if (!isRecord(c) || !isStreamIndex(c.index)) return "a choice without an index (0-1023)";
    if (!optionalString(c.finish_reason)) return "finish_reason is not a string";
    if (c.delta === undefined || c.delta === null) c.delta = {};
    const d = c.delta;
    if (!isRecord(d)) return "delta is not an object";
    if (!optionalString(d.content) || !optionalString(d.refusal) || !optionalString(d.role)) return "a delta field is not a string";
    const calls = d.tool_calls;
    if (calls === undefined || calls === null) continue;
    if (!Array.isArray(calls)) return "tool_calls is not a list";
    for (const tc of calls) {
      if (!isRecord(tc) || !isStreamIndex(tc.index)) return "a tool call without an index (0-1023)";
      if (!optionalString(tc.id)) return "a tool call id is not a string";
      const f = tc.function;
      if (f === undefined || f === null) continue;
      if (!isRecord(f) || !optionalString(f.name) || !optionalString(f.arguments)) return "a tool call's function is malformed";
    }
  }
  const u = obj.usage;
  if (u !== undefined && u !== null && !isRecord(u)) return "usage is not an object";
  return "";
}
