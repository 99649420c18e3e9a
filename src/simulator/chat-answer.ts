/**
 * What a simulated chat model answers, decided once for all dialects: each dialect reads its
 * request into a ChatTurn, and renders the Answer in its own wire shape.
 *
 *   last message is a tool result          → text that quotes the result
 *   tools defined and last message is user → a call to the first tool, args from its schema
 *   otherwise                              → "Echo: …" text (or exactly X on "say exactly: X")
 */
import { countWords, estimateTokens, fakeCompletion, sampleArgs, sayExactly } from "./text.js";

export interface ToolSpec {
  name: string;
  /** The tool's JSON schema (parameters / input_schema / parametersJsonSchema). */
  schema: unknown;
}

export type LastRole = "user" | "tool" | "other";

export class ChatTurn {
  model = "";
  system = "";
  /** Text of the last user message ("" when none). */
  lastUser = "";
  lastRole: LastRole = "other";
  /** Content of the tool result when lastRole is "tool". */
  toolResult = "";
  tools: ToolSpec[] = [];
  /** Characters of all prompt text, for the input-token estimate. */
  promptChars = 0;
}

export class Answer {
  /** The text, when the answer is text. */
  text = "";
  /** The tool called, when the answer is a tool call. */
  tool: ToolSpec | undefined = undefined;
  args: Record<string, unknown> = {};
  /** JSON of args (OpenAI sends it as a string). */
  argsJson = "";
  inputTokens = 0;
  outputTokens = 0;
}

export function composeAnswer(turn: ChatTurn, words: number): Answer {
  const a = new Answer();
  a.inputTokens = Math.max(1, estimateTokens(turn.promptChars));
  const firstTool = turn.tools[0];
  if (turn.lastRole === "tool") {
    a.text = `Tool result received: ${turn.toolResult}`;
  } else if (firstTool !== undefined && turn.lastRole === "user") {
    a.tool = firstTool;
    a.args = sampleArgs(firstTool.schema);
    a.argsJson = JSON.stringify(a.args);
    a.outputTokens = Math.max(1, estimateTokens(a.argsJson.length));
    return a;
  } else {
    a.text = sayExactly(turn.system) ?? sayExactly(turn.lastUser) ?? fakeCompletion(turn.lastUser, words);
  }
  a.outputTokens = Math.max(1, countWords(a.text));
  return a;
}
