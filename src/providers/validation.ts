import type { z } from "zod";
import { RequestValidationError } from "../errors.js";

/**
 * Client-surface validation with zod, and errors that name the field the way a user reads it:
 * `messages[2].content: must be a string or an array of content parts`.
 */
export function parseClientBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = deepestIssue(r.error.issues[0] as Issue, []);
  const message = issue.code === "invalid_type" && valueAt(body, issue.path) === undefined ? "is required" : issue.message;
  throw new RequestValidationError(formatPath(issue.path), message);
}

interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  errors?: Issue[][];
  keys?: string[];
}

/**
 * For a union that failed every branch, zod reports one issue with each branch's issues; the
 * useful one is the branch that got furthest into the value (an array of parts whose third part
 * has a bad `text`), not "string expected" from the branch that failed at the root.
 */
function deepestIssue(issue: Issue, prefix: PropertyKey[]): { path: PropertyKey[]; message: string; code: string } {
  const path = prefix.concat(issue.path);
  const unknownKey = issue.keys?.[0];
  if (issue.code === "unrecognized_keys" && unknownKey !== undefined) {
    return { path: path.concat(unknownKey), message: "unknown field", code: issue.code };
  }
  if (issue.code !== "invalid_union" || !issue.errors?.length) return { path, message: issue.message, code: issue.code };
  let best: Issue | undefined;
  for (const branch of issue.errors) {
    const first = branch[0];
    if (first && first.path.length > 0 && (!best || first.path.length > best.path.length)) best = first;
  }
  return best ? deepestIssue(best, path) : { path, message: issue.message, code: issue.code };
}

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let v = body;
  for (const p of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** `["messages", 2, "content"]` → `messages[2].content`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}
