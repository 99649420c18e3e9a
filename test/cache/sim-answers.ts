/**
 * Real upstream answer bodies for the cache codec tests: one simulated provider per dialect,
 * asked directly (no gateway) for the same question as JSON and as a stream, so a test holds the
 * exact bytes a target sends. Registers nothing global: the test file closes what it starts.
 */
import type { ChatCompletion, Dialect } from "../../src/providers/canonical.js";
import { startSimProvider, type SimProvider } from "../../src/simulator/sim-provider.js";
import type { SimOptions } from "../../src/simulator/sim-options.js";

export const WIRES: readonly Dialect[] = ["openai", "anthropic", "gemini"];

/** A text answer, or a call to the one tool the question offers. */
export type Kind = "text" | "tool";
export const KINDS: readonly Kind[] = ["text", "tool"];

/** Non-ASCII on purpose: the simulator echoes it, so split points fall inside UTF-8 sequences. */
export const QUESTION = "Grüße — naïve café ✓ 日本語 testing";
const WEATHER = {
  type: "object",
  properties: { city: { type: "string" }, days: { type: "integer" } },
  required: ["city"],
};

/** What `ask` sends to the simulator of a dialect, as [path, headers, body]. */
function request(wire: Dialect, kind: Kind, stream: boolean): [string, Record<string, string>, unknown] {
  const tool = kind === "tool";
  switch (wire) {
    case "openai":
      return [
        "/chat/completions",
        { authorization: "Bearer sk-sim-cache" },
        {
          model: "gpt-4o-mini",
          messages: [{ role: "user", content: QUESTION }],
          ...(tool ? { tools: [{ type: "function", function: { name: "get_weather", parameters: WEATHER } }] } : {}),
          ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
        },
      ];
    case "anthropic":
      return [
        "/v1/messages",
        { "x-api-key": "sk-ant-sim-cache", "anthropic-version": "2023-06-01" },
        {
          model: "claude-sonnet-4-5",
          max_tokens: 200,
          messages: [{ role: "user", content: QUESTION }],
          ...(tool ? { tools: [{ name: "get_weather", input_schema: WEATHER }] } : {}),
          ...(stream ? { stream: true } : {}),
        },
      ];
    case "gemini":
      return [
        `/v1beta/models/gemini-2.5-flash:${stream ? "streamGenerateContent?alt=sse" : "generateContent"}`,
        { "x-goog-api-key": "g-sim-cache" },
        {
          contents: [{ role: "user", parts: [{ text: QUESTION }] }],
          ...(tool ? { tools: [{ functionDeclarations: [{ name: "get_weather", parameters: WEATHER }] }] } : {}),
        },
      ];
  }
}

/** The raw 2xx body of one answer (throws on any other status). */
export async function ask(sim: SimProvider, wire: Dialect, kind: Kind, stream: boolean): Promise<Buffer> {
  const [path, headers, body] = request(wire, kind, stream);
  const res = await fetch(sim.url + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`${wire} sim answered ${res.status}: ${bytes.toString("utf8")}`);
  return bytes;
}

/** The simulators, one per dialect, with the same extra options. */
export async function startSims(
  extra: Partial<SimOptions> = {},
): Promise<{ sims: Record<Dialect, SimProvider>; close: () => Promise<void> }> {
  const started: SimProvider[] = [];
  try {
    for (const wire of WIRES) started.push(await startSimProvider({ dialect: wire, stream_chunks: 6, completion_tokens: 20, ...extra }));
  } catch (err) {
    await Promise.all(started.map((s) => s.close()));
    throw err;
  }
  const [openai, anthropic, gemini] = started as [SimProvider, SimProvider, SimProvider];
  return { sims: { openai, anthropic, gemini }, close: () => Promise.all(started.map((s) => s.close())).then(() => undefined) };
}

/** What an answer means, ids and timestamps aside: per choice its text, refusal, calls (arguments parsed), finish; the token counts. */
export function meaning(c: ChatCompletion) {
  return {
    choices: c.choices.map((ch) => ({
      index: ch.index,
      content: ch.message.content ?? "",
      refusal: ch.message.refusal ?? null,
      calls: (ch.message.tool_calls ?? []).map((t) => ({ name: t.function.name, args: JSON.parse(t.function.arguments) as unknown })),
      finish: ch.finish_reason,
    })),
    usage: c.usage ? { prompt: c.usage.prompt_tokens, completion: c.usage.completion_tokens, total: c.usage.total_tokens } : null,
  };
}
