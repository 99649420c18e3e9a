import { z } from "zod";

/**
 * The Anthropic Messages request body as a client may send it: types of the fields Switchyard
 * translates. Top-level fields not listed (thinking, service_tier, container, …) are vendor
 * fields, re-sent only to Anthropic targets.
 */

const str = (what = "a string") => z.string({ error: `must be ${what}` });
const num = () => z.number({ error: "must be a number" });
const int = (min: number) =>
  z
    .number({ error: "must be a number" })
    .int({ error: "must be an integer" })
    .min(min, { error: `must be >= ${min}` });
const cache = z.unknown().optional();

const textBlock = z.object({ type: z.literal("text"), text: str(), cache_control: cache });
const imageBlock = z.object({
  type: z.literal("image"),
  source: z.discriminatedUnion(
    "type",
    [
      z.object({ type: z.literal("base64"), media_type: str("a media type"), data: str("base64 data") }),
      z.object({ type: z.literal("url"), url: str("a URL") }),
      z.object({ type: z.literal("file"), file_id: str() }),
    ],
    { error: "must be an image source of type base64, url or file" },
  ),
  cache_control: cache,
});
const documentBlock = z.object({
  type: z.literal("document"),
  source: z.discriminatedUnion(
    "type",
    [
      z.object({ type: z.literal("base64"), media_type: str("a media type"), data: str("base64 data") }),
      z.object({ type: z.literal("url"), url: str("a URL") }),
      z.object({ type: z.literal("text"), media_type: str("a media type"), data: str() }),
      z.object({ type: z.literal("file"), file_id: str() }),
    ],
    { error: "must be a document source of type base64, url, text or file" },
  ),
  title: str().nullable().optional(),
  cache_control: cache,
});
const toolUseBlock = z.object({
  type: z.literal("tool_use"),
  id: str(),
  name: str(),
  input: z.record(z.string(), z.unknown(), { error: "must be a JSON object" }),
  cache_control: cache,
});
const toolResultBlock = z.object({
  type: z.literal("tool_result"),
  tool_use_id: str(),
  content: z
    .union([str(), z.array(z.discriminatedUnion("type", [textBlock, imageBlock], { error: "must be a text or image block" }))], {
      error: "must be a string or an array of text and image blocks",
    })
    .optional(),
  is_error: z.boolean({ error: "must be true or false" }).optional(),
  cache_control: cache,
});
const thinkingBlock = z.object({ type: z.literal("thinking"), thinking: str(), signature: str().optional() });
const redactedThinkingBlock = z.object({ type: z.literal("redacted_thinking"), data: str() });

const block = z.discriminatedUnion(
  "type",
  [textBlock, imageBlock, documentBlock, toolUseBlock, toolResultBlock, thinkingBlock, redactedThinkingBlock],
  {
    error: "must be a content block of type text, image, document, tool_use, tool_result, thinking or redacted_thinking",
  },
);

const message = z.object(
  {
    role: z.enum(["user", "assistant"], { error: "must be user or assistant" }),
    content: z.union([str(), z.array(block)], { error: "must be a string or an array of content blocks" }),
  },
  { error: "must be a message object" },
);

/** A custom tool has an input_schema; server tools (web_search_…) have a versioned `type`. */
const tool = z.looseObject({
  name: str(),
  type: str().optional(),
  description: str().optional(),
  input_schema: z.record(z.string(), z.unknown(), { error: "must be a JSON schema object" }).optional(),
});

const toolChoice = z.discriminatedUnion(
  "type",
  [
    z.object({ type: z.literal("auto"), disable_parallel_tool_use: z.boolean().optional() }),
    z.object({ type: z.literal("any"), disable_parallel_tool_use: z.boolean().optional() }),
    z.object({ type: z.literal("tool"), name: str(), disable_parallel_tool_use: z.boolean().optional() }),
    z.object({ type: z.literal("none") }),
  ],
  { error: "must be a tool choice of type auto, any, tool or none" },
);

export const anthropicRequestSchema = z.object(
  {
    model: str("a model name"),
    max_tokens: int(1),
    messages: z.array(message, { error: "must be an array of messages" }).min(1, { error: "must hold at least one message" }),
    system: z.union([str(), z.array(textBlock)], { error: "must be a string or an array of text blocks" }).optional(),
    stop_sequences: z.array(str(), { error: "must be an array of strings" }).optional(),
    temperature: num().optional(),
    top_p: num().optional(),
    top_k: int(1).optional(),
    tools: z.array(tool, { error: "must be an array of tools" }).optional(),
    tool_choice: toolChoice.optional(),
    metadata: z.object({ user_id: str().nullable().optional() }).optional(),
    stream: z.boolean({ error: "must be true or false" }).optional(),
  },
  { error: "must be a JSON object" },
);

export type AnthropicClientRequest = z.infer<typeof anthropicRequestSchema>;
export type AnthropicClientBlock = z.infer<typeof block>;

export const KNOWN_ANTHROPIC_FIELDS: ReadonlySet<string> = new Set(Object.keys(anthropicRequestSchema.shape));
