import { z } from "zod";
import type { ChatRequest } from "../canonical.js";

/**
 * The OpenAI chat-completions request body as a client may send it: checks the types of the
 * fields Switchyard translates (nested objects are stripped to their known keys); top-level
 * fields not listed here are kept aside as vendor fields by `fromOpenAIRequest`.
 */

const str = (what = "a string") => z.string({ error: `must be ${what}` });
const num = () => z.number({ error: "must be a number" });
const int = (min: number) =>
  z
    .number({ error: "must be a number" })
    .int({ error: "must be an integer" })
    .min(min, { error: `must be >= ${min}` });
const bool = () => z.boolean({ error: "must be true or false" });
const jsonObject = () => z.record(z.string(), z.unknown(), { error: "must be a JSON object" });

const textPart = z.object({ type: z.literal("text"), text: str() });
const imagePart = z.object({
  type: z.literal("image_url"),
  image_url: z.object(
    { url: str("a URL string"), detail: z.enum(["auto", "low", "high"], { error: "must be auto, low or high" }).optional() },
    { error: "must be an object with a url" },
  ),
});
const audioPart = z.object({
  type: z.literal("input_audio"),
  input_audio: z.object({ data: str("base64 audio"), format: z.enum(["wav", "mp3"], { error: "must be wav or mp3" }) }),
});
const filePart = z.object({
  type: z.literal("file"),
  file: z.object({ file_data: str().optional(), file_id: str().optional(), filename: str().optional() }),
});

const userPart = z.discriminatedUnion("type", [textPart, imagePart, audioPart, filePart], {
  error: "must be a content part of type text, image_url, input_audio or file",
});
const textOnlyPart = z.discriminatedUnion("type", [textPart], { error: "must be a content part of type text" });

const userContent = z.union([str(), z.array(userPart)], { error: "must be a string or an array of content parts" });
const textContent = z.union([str(), z.array(textOnlyPart)], { error: "must be a string or an array of text parts" });

const toolCall = z.object({
  id: str(),
  type: z.literal("function", { error: 'must be "function"' }),
  function: z.object({ name: str(), arguments: str("a JSON string") }, { error: "must be an object with name and arguments" }),
  extra_content: z.object({ google: z.object({ thought_signature: str().optional() }).optional() }).optional(),
});

const message = z.discriminatedUnion(
  "role",
  [
    z.object({ role: z.enum(["system", "developer"]), content: textContent, name: str().optional() }),
    z.object({ role: z.literal("user"), content: userContent, name: str().optional() }),
    z.object({
      role: z.literal("assistant"),
      content: textContent.nullable().optional(),
      tool_calls: z.array(toolCall, { error: "must be an array of tool calls" }).optional(),
      refusal: str().nullable().optional(),
      name: str().optional(),
    }),
    z.object({ role: z.literal("tool"), tool_call_id: str(), content: textContent, is_error: bool().optional() }),
  ],
  { error: "must be a message with role system, developer, user, assistant or tool" },
);

const tool = z.object({
  type: z.literal("function", { error: 'must be "function" (only function tools are translated)' }),
  function: z.object({
    name: str(),
    description: str().optional(),
    parameters: jsonObject().optional(),
    strict: bool().nullable().optional(),
  }),
});

const toolChoice = z.union(
  [z.enum(["auto", "none", "required"]), z.object({ type: z.literal("function"), function: z.object({ name: str() }) })],
  { error: 'must be "auto", "none", "required" or {"type":"function","function":{"name":…}}' },
);

const responseFormat = z.discriminatedUnion(
  "type",
  [
    z.object({ type: z.literal("text") }),
    z.object({ type: z.literal("json_object") }),
    z.object({
      type: z.literal("json_schema"),
      json_schema: z.object({
        name: str(),
        description: str().optional(),
        schema: jsonObject().optional(),
        strict: bool().nullable().optional(),
      }),
    }),
  ],
  { error: "must be a response format of type text, json_object or json_schema" },
);

export const chatRequestSchema = z.object(
  {
    model: str("a model name"),
    messages: z.array(message, { error: "must be an array of messages" }).min(1, { error: "must hold at least one message" }),
    tools: z.array(tool, { error: "must be an array of tools" }).optional(),
    tool_choice: toolChoice.optional(),
    parallel_tool_calls: bool().optional(),
    stop: z
      .union([str(), z.array(str())], { error: "must be a string or an array of strings" })
      .nullable()
      .optional(),
    temperature: num().nullable().optional(),
    top_p: num().nullable().optional(),
    top_k: int(1).nullable().optional(),
    max_tokens: int(1).nullable().optional(),
    max_completion_tokens: int(1).nullable().optional(),
    response_format: responseFormat.optional(),
    stream: bool().nullable().optional(),
    stream_options: z.object({ include_usage: bool().optional() }).nullable().optional(),
    user: str().optional(),
    n: int(1).nullable().optional(),
    seed: int(Number.MIN_SAFE_INTEGER).nullable().optional(),
    presence_penalty: num().nullable().optional(),
    frequency_penalty: num().nullable().optional(),
    logit_bias: z.record(z.string(), num()).nullable().optional(),
    logprobs: bool().nullable().optional(),
    top_logprobs: int(0).nullable().optional(),
    reasoning_effort: z.enum(["minimal", "low", "medium", "high"], { error: "must be minimal, low, medium or high" }).nullable().optional(),
    metadata: z.record(z.string(), str()).nullable().optional(),
    store: bool().nullable().optional(),
    service_tier: str().nullable().optional(),
  },
  { error: "must be a JSON object" },
);

/** Top-level fields the schema knows; any other is a vendor field. */
export const KNOWN_REQUEST_FIELDS: ReadonlySet<string> = new Set(Object.keys(chatRequestSchema.shape));

// The schema must describe (a subset of) the canonical type, or translation code would lie.
type Parsed = z.infer<typeof chatRequestSchema>;
const _schemaMatchesCanonical: Parsed extends Omit<ChatRequest, "vendor"> ? true : false = true;
void _schemaMatchesCanonical;
