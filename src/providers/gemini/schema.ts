import { z } from "zod";

/**
 * The Gemini generateContent body as a client may send it (REST camelCase): types of the fields
 * Switchyard translates. Top-level fields not listed (safetySettings, cachedContent, labels) and
 * unknown generationConfig sub-fields (thinkingConfig, …) are vendor fields, re-sent only to
 * Gemini targets.
 */

const str = (what = "a string") => z.string({ error: `must be ${what}` });
const num = () => z.number({ error: "must be a number" });
const int = (min: number) =>
  z
    .number({ error: "must be a number" })
    .int({ error: "must be an integer" })
    .min(min, { error: `must be >= ${min}` });
const obj = (what = "a JSON object") => z.record(z.string(), z.unknown(), { error: `must be ${what}` });

/** A part is a loose object: exactly which field it carries is checked while translating. */
export const partSchema = z.looseObject({
  text: str().optional(),
  thought: z.boolean().optional(),
  thoughtSignature: str().optional(),
  inlineData: z.object({ mimeType: str("a MIME type"), data: str("base64 data") }).optional(),
  fileData: z.object({ fileUri: str("a URI"), mimeType: str("a MIME type").optional() }).optional(),
  functionCall: z.object({ name: str(), args: obj().optional(), id: str().optional() }).optional(),
  functionResponse: z.object({ name: str(), response: obj(), id: str().optional() }).optional(),
});

const content = z.object(
  {
    role: z.enum(["user", "model"], { error: "must be user or model" }).optional(),
    parts: z.array(partSchema, { error: "must be an array of parts" }),
  },
  { error: "must be a Content object" },
);

const declaration = z.object({
  name: str(),
  description: str().optional(),
  parameters: obj("a schema object").optional(),
  parametersJsonSchema: obj("a JSON schema object").optional(),
});

/** A tool holds functionDeclarations, or a built-in (googleSearch, codeExecution, urlContext…). */
const tool = z.looseObject({
  functionDeclarations: z.array(declaration, { error: "must be an array of function declarations" }).optional(),
});

export const generationConfigSchema = z.looseObject({
  stopSequences: z.array(str(), { error: "must be an array of strings" }).optional(),
  temperature: num().optional(),
  topP: num().optional(),
  topK: int(1).optional(),
  maxOutputTokens: int(1).optional(),
  candidateCount: int(1).optional(),
  seed: int(Number.MIN_SAFE_INTEGER).optional(),
  presencePenalty: num().optional(),
  frequencyPenalty: num().optional(),
  responseMimeType: str("a MIME type").optional(),
  responseSchema: obj("a schema object").optional(),
  responseJsonSchema: obj("a JSON schema object").optional(),
});

/** generationConfig fields with a canonical meaning; the rest of it is vendor. */
export const KNOWN_GENERATION_FIELDS: ReadonlySet<string> = new Set(Object.keys(generationConfigSchema.shape));

export const geminiRequestSchema = z.object(
  {
    contents: z.array(content, { error: "must be an array of Content" }).min(1, { error: "must hold at least one Content" }),
    systemInstruction: z
      .union([str(), z.object({ role: str().optional(), parts: z.array(partSchema, { error: "must be an array of parts" }) })], {
        error: "must be a Content object with parts",
      })
      .optional(),
    tools: z.array(tool, { error: "must be an array of tools" }).optional(),
    toolConfig: z
      .object({
        functionCallingConfig: z
          .object({
            mode: z
              .enum(["AUTO", "ANY", "NONE", "VALIDATED", "MODE_UNSPECIFIED"], { error: "must be AUTO, ANY, NONE or VALIDATED" })
              .optional(),
            allowedFunctionNames: z.array(str()).optional(),
          })
          .optional(),
      })
      .optional(),
    generationConfig: generationConfigSchema.optional(),
  },
  { error: "must be a JSON object" },
);

export type GeminiClientRequest = z.infer<typeof geminiRequestSchema>;
export type GeminiClientPart = z.infer<typeof partSchema>;

export const KNOWN_GEMINI_FIELDS: ReadonlySet<string> = new Set(Object.keys(geminiRequestSchema.shape));
