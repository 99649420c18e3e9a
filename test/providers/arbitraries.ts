import fc from "fast-check";
import type {
  ChatCompletionChunk,
  ChatRequest,
  ContentPart,
  FunctionTool,
  Message,
  TextPart,
  ToolChoice,
} from "../../src/providers/canonical.js";

/**
 * fast-check generators of valid canonical requests: the conversations an OpenAI client can
 * send (tool calls are always answered by tool messages, the first turn is the user's).
 */

/** Text with something besides whitespace (providers refuse blank text blocks). */
export const text = fc.string({ unit: "grapheme", minLength: 1, maxLength: 24 }).filter((s) => s.trim().length > 0);
const toolName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,15}$/);
const key = fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== "__proto__");
export const argsJson = fc
  .dictionary(key, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4, noNullPrototype: true })
  .map((o) => JSON.stringify(o));

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk";
const textPart = text.map((t): TextPart => ({ type: "text", text: t }));
const imagePart = fc.constantFrom<ContentPart>(
  { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
  { type: "image_url", image_url: { url: `data:image/jpeg;base64,${PNG}`, detail: "low" } },
);

const systemMsg = fc.oneof(
  text.map((t): Message => ({ role: "system", content: t })),
  fc.array(textPart, { minLength: 1, maxLength: 2 }).map((parts): Message => ({ role: "developer", content: parts })),
);
const userMsg = fc.oneof(
  text.map((t): Message => ({ role: "user", content: t })),
  fc
    .array(fc.oneof({ weight: 3, arbitrary: textPart }, { weight: 1, arbitrary: imagePart }), { minLength: 1, maxLength: 3 })
    .map((parts): Message => ({ role: "user", content: parts })),
);

/** An assistant turn: text and/or tool calls; calls are followed by one tool message each. */
const assistantTurn = fc
  .record({
    text: fc.option(fc.oneof(text, fc.array(textPart, { minLength: 1, maxLength: 2 })), { nil: undefined }),
    calls: fc.array(
      fc.record({
        name: toolName,
        args: argsJson,
        result: fc.oneof(text, fc.array(textPart, { minLength: 1, maxLength: 2 })),
        isError: fc.boolean(),
      }),
      { maxLength: 3 },
    ),
  })
  .filter((t) => t.text !== undefined || t.calls.length > 0);

type Turn = { kind: "user"; m: Message } | { kind: "assistant"; t: typeof assistantTurn extends fc.Arbitrary<infer T> ? T : never };

const conversation = fc
  .tuple(
    fc.array(systemMsg, { maxLength: 2 }),
    userMsg,
    fc.array(
      fc.oneof(
        userMsg.map((m): Turn => ({ kind: "user", m })),
        assistantTurn.map((t): Turn => ({ kind: "assistant", t })),
      ),
      { maxLength: 5 },
    ),
    userMsg,
  )
  .map(([systems, first, turns, last]) => {
    const messages: Message[] = [...systems, first];
    let n = 0;
    for (const turn of turns) {
      if (turn.kind === "user") {
        messages.push(turn.m);
        continue;
      }
      const calls = turn.t.calls.map((c) => ({ ...c, id: `call_${n++}` }));
      messages.push({
        role: "assistant",
        content: turn.t.text ?? null,
        ...(calls.length > 0
          ? { tool_calls: calls.map((c) => ({ id: c.id, type: "function" as const, function: { name: c.name, arguments: c.args } })) }
          : {}),
      });
      for (const c of calls)
        messages.push({ role: "tool", tool_call_id: c.id, content: c.result, ...(c.isError ? { is_error: true } : {}) });
    }
    // Ends with the user (or tool results) so the request asks for a new answer, not a prefill.
    if (messages.at(-1)!.role === "assistant") messages.push(last);
    return messages;
  });

const leafSchema = fc.constantFrom<Record<string, unknown>>(
  { type: "string", description: "a name" },
  { type: "integer", minimum: 0, maximum: 10 },
  { type: ["string", "null"] },
  { type: "string", enum: ["a", "b"] },
  { type: "number", format: "double" },
  { type: "string", format: "uri" },
  { const: "fixed" },
  { type: "array", items: { type: "string" }, minItems: 1 },
  { type: "object", properties: { inner: { type: "boolean" } }, additionalProperties: false },
);

const parametersSchema = fc
  .dictionary(fc.stringMatching(/^[a-z][a-z_]{0,9}$/), leafSchema, { maxKeys: 4, noNullPrototype: true })
  .chain((props) =>
    fc.record(
      {
        type: fc.constant("object"),
        properties: fc.constant(props),
        required: fc.subarray(Object.keys(props)),
        additionalProperties: fc.boolean(),
        $schema: fc.constant("http://json-schema.org/draft-07/schema#"),
      },
      { requiredKeys: ["type", "properties"] },
    ),
  );

const tools = fc.uniqueArray(
  fc.record({
    name: toolName,
    description: fc.option(text, { nil: undefined }),
    parameters: fc.option(parametersSchema, { nil: undefined }),
  }),
  {
    maxLength: 3,
    selector: (t) => t.name,
  },
);

/** Any valid canonical request. */
export const chatRequest: fc.Arbitrary<ChatRequest> = fc
  .record(
    {
      messages: conversation,
      tools,
      choice: fc.constantFrom("auto", "none", "required", "named", undefined),
      parallel: fc.option(fc.boolean(), { nil: undefined }),
      temperature: fc.option(fc.double({ min: 0, max: 2, noNaN: true }), { nil: undefined }),
      top_p: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
      max_tokens: fc.option(fc.integer({ min: 1, max: 8192 }), { nil: undefined }),
      max_completion_tokens: fc.option(fc.integer({ min: 1, max: 8192 }), { nil: undefined }),
      stop: fc.option(fc.oneof(text, fc.array(text, { minLength: 1, maxLength: 4 })), { nil: undefined }),
      response_format: fc.option(
        fc.constantFrom<ChatRequest["response_format"]>(
          { type: "text" },
          { type: "json_object" },
          {
            type: "json_schema",
            json_schema: {
              name: "out",
              schema: { type: "object", properties: { a: { type: "string" } }, required: ["a"], additionalProperties: false },
            },
          },
        ),
        { nil: undefined },
      ),
      n: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
      seed: fc.option(fc.integer(), { nil: undefined }),
      user: fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
      stream: fc.option(fc.boolean(), { nil: undefined }),
      presence_penalty: fc.option(fc.double({ min: -2, max: 2, noNaN: true }), { nil: undefined }),
    },
    { requiredKeys: ["messages", "tools", "choice"] },
  )
  .map((r) => {
    const req: ChatRequest = { model: "canonical-model", messages: r.messages };
    const [firstTool] = r.tools;
    if (firstTool) {
      req.tools = r.tools.map((t): FunctionTool => ({
        type: "function",
        function: {
          name: t.name,
          ...(t.description ? { description: t.description } : {}),
          ...(t.parameters ? { parameters: t.parameters } : {}),
        },
      }));
      const choice: ToolChoice | undefined = r.choice === "named" ? { type: "function", function: { name: firstTool.name } } : r.choice;
      if (choice) req.tool_choice = choice;
      if (r.parallel !== undefined) req.parallel_tool_calls = r.parallel;
    }
    for (const k of [
      "temperature",
      "top_p",
      "max_tokens",
      "max_completion_tokens",
      "stop",
      "response_format",
      "n",
      "seed",
      "user",
      "stream",
      "presence_penalty",
    ] as const) {
      if (r[k] !== undefined) (req as unknown as Record<string, unknown>)[k] = r[k];
    }
    return req;
  });

/** A canonical stream as an OpenAI upstream would send it: text split anyhow, tool arguments in fragments. */
export const chunkStream = fc
  .record({
    texts: fc.array(fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }), { maxLength: 6 }),
    tools: fc.array(fc.record({ name: toolName, args: argsJson, cuts: fc.array(fc.nat(40), { maxLength: 4 }) }), { maxLength: 3 }),
    finish: fc.constantFrom("stop" as const, "length" as const),
    usage: fc.record({ prompt_tokens: fc.nat(5000), completion_tokens: fc.nat(5000) }),
  })
  .map((s) => {
    const base = { id: "chatcmpl-p", object: "chat.completion.chunk" as const, created: 1, model: "m" };
    const chunks: ChatCompletionChunk[] = [
      { ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] },
    ];
    for (const t of s.texts) chunks.push({ ...base, choices: [{ index: 0, delta: { content: t }, finish_reason: null }] });
    const tools = s.tools.map((t, k) => ({ id: `call_${k}`, name: t.name, args: t.args }));
    s.tools.forEach((t, k) => {
      const points = [...new Set(t.cuts.map((c) => Math.min(c, t.args.length)))].sort((a, b) => a - b);
      chunks.push({
        ...base,
        choices: [
          {
            index: 0,
            delta: { tool_calls: [{ index: k, id: `call_${k}`, type: "function", function: { name: t.name, arguments: "" } }] },
            finish_reason: null,
          },
        ],
      });
      let prev = 0;
      for (const p of [...points, t.args.length]) {
        if (p > prev)
          chunks.push({
            ...base,
            choices: [
              { index: 0, delta: { tool_calls: [{ index: k, function: { arguments: t.args.slice(prev, p) } }] }, finish_reason: null },
            ],
          });
        prev = p;
      }
    });
    const finish = tools.length > 0 ? ("tool_calls" as const) : s.finish;
    chunks.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: finish }] });
    const usage = { ...s.usage, total_tokens: s.usage.prompt_tokens + s.usage.completion_tokens };
    chunks.push({ ...base, choices: [], usage });
    return { chunks, text: s.texts.join(""), tools, finish, usage };
  });
