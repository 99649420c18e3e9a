import { z } from "zod";

/**
 * What the providers accept, written independently of the translators (from docs.claude.com
 * /en/api/messages and ai.google.dev/api/generate-content) as strict schemas: unknown keys fail,
 * so a canonical field leaking through a translation is caught. Structural rules the APIs
 * enforce beyond field types (alternating roles, tool results first and paired, Gemini's
 * function-response counts) are refinements.
 */

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const nonBlank = z.string().refine((s) => s.trim().length > 0, "text blocks must contain non-whitespace text");

// ─── Anthropic Messages ───────────────────────────────────────────────────────────────────────

const aText = z.strictObject({ type: z.literal("text"), text: nonBlank });
const aImage = z.strictObject({
  type: z.literal("image"),
  source: z.union([
    z.strictObject({
      type: z.literal("base64"),
      media_type: z.enum(["image/jpeg", "image/png", "image/gif", "image/webp"]),
      data: z.string().min(1),
    }),
    z.strictObject({ type: z.literal("url"), url: z.url() }),
  ]),
});
const aDocument = z.strictObject({
  type: z.literal("document"),
  source: z.strictObject({ type: z.literal("base64"), media_type: z.literal("application/pdf"), data: z.string() }),
});
const aToolUse = z.strictObject({
  type: z.literal("tool_use"),
  id: z.string().regex(/^[a-zA-Z0-9_-]+$/),
  name: z.string().regex(TOOL_NAME),
  input: z.record(z.string(), z.unknown()),
});
const aToolResult = z.strictObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string().regex(/^[a-zA-Z0-9_-]+$/),
  content: z.union([z.string(), z.array(aText)]).optional(),
  is_error: z.boolean().optional(),
});
const aBlock = z.union([aText, aImage, aDocument, aToolUse, aToolResult]);
const aMessage = z.strictObject({ role: z.enum(["user", "assistant"]), content: z.union([nonBlank, z.array(aBlock).min(1)]) });

type AMessage = z.infer<typeof aMessage>;
type ABlock = z.infer<typeof aBlock>;

const blocksOf = (m: AMessage): ABlock[] => (typeof m.content === "string" ? [{ type: "text", text: m.content }] : m.content);

export const anthropicAcceptedRequest = z
  .strictObject({
    model: z.string().min(1),
    max_tokens: z.number().int().min(1),
    messages: z.array(aMessage).min(1),
    system: z.union([nonBlank, z.array(aText).min(1)]).optional(),
    stop_sequences: z.array(nonBlank).optional(),
    temperature: z.number().min(0).max(1).optional(),
    top_p: z.number().min(0).max(1).optional(),
    top_k: z.number().int().min(0).optional(),
    stream: z.boolean().optional(),
    metadata: z.strictObject({ user_id: z.string() }).optional(),
    tools: z
      .array(
        z.strictObject({
          name: z.string().regex(TOOL_NAME),
          description: z.string().optional(),
          input_schema: z.looseObject({ type: z.literal("object") }),
        }),
      )
      .optional(),
    tool_choice: z
      .union([
        z.strictObject({ type: z.literal("auto"), disable_parallel_tool_use: z.boolean().optional() }),
        z.strictObject({ type: z.literal("any"), disable_parallel_tool_use: z.boolean().optional() }),
        z.strictObject({ type: z.literal("tool"), name: z.string(), disable_parallel_tool_use: z.boolean().optional() }),
        z.strictObject({ type: z.literal("none") }),
      ])
      .optional(),
  })
  .superRefine((body, ctx) => {
    if (body.tool_choice && !body.tools) ctx.addIssue({ code: "custom", message: "tool_choice without tools", path: ["tool_choice"] });
    const msgs = body.messages;
    for (const [i, msg] of msgs.entries()) {
      const prev = msgs[i - 1];
      const next = msgs[i + 1];
      if (prev && msg.role === prev.role) ctx.addIssue({ code: "custom", message: "roles must alternate", path: ["messages", i] });
      const blocks = blocksOf(msg);
      const firstOther = blocks.findIndex((b) => b.type !== "tool_result");
      if (firstOther !== -1 && blocks.slice(firstOther).some((b) => b.type === "tool_result"))
        ctx.addIssue({ code: "custom", message: "tool_result blocks must come first", path: ["messages", i] });
      if (msg.role === "user" && blocks.some((b) => b.type === "tool_use"))
        ctx.addIssue({ code: "custom", message: "tool_use in a user turn", path: ["messages", i] });
      if (msg.role === "assistant" && blocks.some((b) => b.type === "tool_result"))
        ctx.addIssue({ code: "custom", message: "tool_result in an assistant turn", path: ["messages", i] });
      // Every tool_use is answered in the next turn, and every tool_result answers the previous turn.
      const uses = blocks.filter((b) => b.type === "tool_use").map((b) => (b as { id: string }).id);
      if (uses.length > 0) {
        const nextBlocks = next ? blocksOf(next) : [];
        const answered = new Set(nextBlocks.filter((b) => b.type === "tool_result").map((b) => (b as { tool_use_id: string }).tool_use_id));
        for (const id of uses)
          if (!answered.has(id)) ctx.addIssue({ code: "custom", message: `tool_use ${id} has no tool_result`, path: ["messages", i] });
      }
      const results = blocks.filter((b) => b.type === "tool_result").map((b) => (b as { tool_use_id: string }).tool_use_id);
      if (results.length > 0) {
        const prevBlocks = prev ? blocksOf(prev) : [];
        const ids = new Set(prevBlocks.filter((b) => b.type === "tool_use").map((b) => (b as { id: string }).id));
        for (const id of results)
          if (!ids.has(id)) ctx.addIssue({ code: "custom", message: `tool_result ${id} answers no tool_use`, path: ["messages", i] });
      }
    }
  });

// ─── Gemini generateContent ───────────────────────────────────────────────────────────────────

const GEMINI_TYPES = [
  "string",
  "number",
  "integer",
  "boolean",
  "array",
  "object",
  "STRING",
  "NUMBER",
  "INTEGER",
  "BOOLEAN",
  "ARRAY",
  "OBJECT",
] as const;

export const geminiSchema: z.ZodType<unknown> = z.lazy(() =>
  z
    .strictObject({
      type: z.enum(GEMINI_TYPES).optional(),
      format: z.enum(["date-time", "enum", "float", "double", "int32", "int64"]).optional(),
      title: z.string().optional(),
      description: z.string().optional(),
      nullable: z.boolean().optional(),
      enum: z.array(z.string()).optional(),
      maxItems: z.number().optional(),
      minItems: z.number().optional(),
      properties: z.record(z.string(), geminiSchema).optional(),
      required: z.array(z.string()).optional(),
      minProperties: z.number().optional(),
      maxProperties: z.number().optional(),
      minLength: z.number().optional(),
      maxLength: z.number().optional(),
      pattern: z.string().optional(),
      example: z.unknown().optional(),
      anyOf: z.array(geminiSchema).optional(),
      propertyOrdering: z.array(z.string()).optional(),
      default: z.unknown().optional(),
      items: geminiSchema.optional(),
      minimum: z.number().optional(),
      maximum: z.number().optional(),
    })
    .superRefine((s, ctx) => {
      const props = s.properties;
      if (props && Object.keys(props).length === 0)
        ctx.addIssue({ code: "custom", message: "properties: should be non-empty for OBJECT type" });
      for (const r of s.required ?? [])
        if (!props || !(r in props)) ctx.addIssue({ code: "custom", message: `required property ${r} is not defined` });
    }),
);

const gPart = z
  .strictObject({
    text: z.string().optional(),
    thoughtSignature: z.string().optional(),
    inlineData: z.strictObject({ mimeType: z.string().min(1), data: z.string() }).optional(),
    fileData: z.strictObject({ fileUri: z.string().min(1), mimeType: z.string().optional() }).optional(),
    functionCall: z
      .strictObject({
        name: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_.:-]{0,127}$/),
        args: z.record(z.string(), z.unknown()).optional(),
        id: z.string().optional(),
      })
      .optional(),
    functionResponse: z
      .strictObject({ name: z.string().min(1), response: z.record(z.string(), z.unknown()), id: z.string().optional() })
      .optional(),
  })
  .refine(
    (p) => ["text", "inlineData", "fileData", "functionCall", "functionResponse"].filter((k) => k in p).length === 1,
    "a part holds exactly one kind of data",
  );

const gContent = z.strictObject({ role: z.enum(["user", "model"]), parts: z.array(gPart).min(1) });

export const geminiAcceptedRequest = z
  .strictObject({
    contents: z.array(gContent).min(1),
    systemInstruction: z
      .strictObject({ role: z.string().optional(), parts: z.array(z.strictObject({ text: z.string().min(1) })).min(1) })
      .optional(),
    tools: z
      .array(
        z.strictObject({
          functionDeclarations: z
            .array(
              z.strictObject({
                name: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_.:-]{0,127}$/),
                description: z.string().optional(),
                parameters: geminiSchema.optional(),
              }),
            )
            .min(1),
        }),
      )
      .optional(),
    toolConfig: z
      .strictObject({
        functionCallingConfig: z.strictObject({
          mode: z.enum(["AUTO", "ANY", "NONE"]),
          allowedFunctionNames: z.array(z.string()).optional(),
        }),
      })
      .optional(),
    generationConfig: z
      .strictObject({
        stopSequences: z.array(z.string()).max(5).optional(),
        temperature: z.number().min(0).max(2).optional(),
        topP: z.number().min(0).max(1).optional(),
        topK: z.number().int().min(1).optional(),
        maxOutputTokens: z.number().int().min(1).optional(),
        candidateCount: z.number().int().min(1).max(8).optional(),
        seed: z.number().int().optional(),
        presencePenalty: z.number().optional(),
        frequencyPenalty: z.number().optional(),
        responseMimeType: z.enum(["text/plain", "application/json"]).optional(),
        responseSchema: geminiSchema.optional(),
      })
      .optional(),
  })
  .superRefine((body, ctx) => {
    const cs = body.contents;
    for (const [i, c] of cs.entries()) {
      const calls = c.parts.filter((p) => p.functionCall).length;
      const responses = c.parts.filter((p) => p.functionResponse).length;
      if (c.role === "user" && calls > 0) ctx.addIssue({ code: "custom", message: "functionCall in a user turn", path: ["contents", i] });
      if (c.role === "model" && responses > 0)
        ctx.addIssue({ code: "custom", message: "functionResponse in a model turn", path: ["contents", i] });
      if (responses > 0) {
        const prevCalls = cs[i - 1]?.parts.filter((p) => p.functionCall).length ?? 0;
        if (prevCalls !== responses)
          ctx.addIssue({
            code: "custom",
            message: "the number of function response parts must equal the number of function call parts of the previous turn",
            path: ["contents", i],
          });
      }
    }
  });
