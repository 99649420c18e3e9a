/**
 * Gemini's wire format (Generative Language API): POST /v1beta/models/{model}:generateContent,
 * :streamGenerateContent (`?alt=sse`: each `data:` a whole GenerateContentResponse, the stream
 * ends when the connection closes; without it, a JSON array streamed piece by piece),
 * :embedContent, :batchEmbedContents, :countTokens, GET /v1beta/models; `x-goog-api-key` or
 * `?key=`; errors as {"error":{code,message,status}}; a 429 carries its delay only in the body
 * (RetryInfo `retryDelay`), never in a Retry-After header.
 */
import type { IncomingMessage, OutgoingHttpHeaders } from "node:http";
import { composeAnswer, ChatTurn, type Answer } from "./chat-answer.js";
import { bodyObject, header, type Dialect } from "./sim-dialect.js";
import type { SimExchange } from "./sim-exchange.js";
import { sseDataCrlf } from "./sse.js";
import { embed, estimateTokens, splitPieces, textOf } from "./text.js";

const MODELS = ["gemini-2.5-flash", "gemini-2.5-pro", "text-embedding-004", "demo"];
const EMBEDDING_DIMS = 8;
const METHOD_PATH = /^\/(?:v1beta|v1)\/models\/([^/:]+):([A-Za-z]+)$/;

const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ABORTED",
  429: "RESOURCE_EXHAUSTED",
  499: "CANCELLED",
  500: "INTERNAL",
  501: "NOT_IMPLEMENTED",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

export const geminiDialect: Dialect = {
  kind: "gemini",
  basePath: "",
  // The real API sends no Retry-After: the delay travels only in the 429 body's RetryInfo.
  retryAfterHeader: false,

  key(req: IncomingMessage, query: URLSearchParams): string {
    return header(req, "x-goog-api-key") || (query.get("key") ?? "");
  },

  headers(_ex: SimExchange, out: OutgoingHttpHeaders): void {
    out["server"] = "scaffolding on HTTPServer2";
  },

  errorBody(ex: SimExchange, status: number, message: string): unknown {
    const error: Record<string, unknown> = {
      code: status,
      message,
      status: STATUS_NAMES[status] ?? (status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION"),
    };
    if (status === 429 && ex.retryAfterMs > 0) {
      error.details = [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${Math.ceil(ex.retryAfterMs / 1000)}s` }];
    }
    return { error };
  },

  streamError(ex: SimExchange, index: number): string {
    const error = { error: { code: 500, message: "An internal error has occurred.", status: "INTERNAL" } };
    if (ex.query.get("alt") === "sse") return sseDataCrlf(error);
    return (index === 0 ? "[" : ",\r\n") + JSON.stringify(error);
  },

  exhausted(ex: SimExchange): void {
    // A per-day quota: retrying soon does not help, so no RetryInfo.
    ex.error(429, "You exceeded your current quota (requests per day), please check your plan and billing details.");
  },

  handle(ex: SimExchange): void {
    const { method, path } = ex;
    if (method === "GET" && (path === "/v1beta/models" || path === "/v1/models")) {
      return ex.json(200, { models: MODELS.map(modelInfo) });
    }
    const m = METHOD_PATH.exec(path);
    const modelInPath = m?.[1];
    if (method === "POST" && m !== null && modelInPath !== undefined) {
      const model = decodeURIComponent(modelInPath);
      switch (m[2]) {
        case "generateContent":
          return generate(ex, model, false);
        case "streamGenerateContent":
          return generate(ex, model, true);
        case "embedContent":
          return embedOne(ex);
        case "batchEmbedContents":
          return embedBatch(ex);
        case "countTokens":
          return ex.json(200, { totalTokens: Math.max(1, estimateTokens(readTurn(bodyObject(ex.body) ?? {}, model).promptChars)) });
      }
    }
    if (method === "GET" && path.startsWith("/v1beta/models/")) return ex.json(200, modelInfo(decodeURIComponent(path.slice(15))));
    ex.error(404, `Method not found: ${method} ${path}`);
  },
};

function modelInfo(id: string): unknown {
  return {
    name: `models/${id}`,
    version: "001",
    displayName: id,
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
    supportedGenerationMethods: ["generateContent", "streamGenerateContent", "countTokens"],
  };
}

function readTurn(body: Record<string, unknown>, model: string): ChatTurn {
  const turn = new ChatTurn();
  turn.model = model;
  turn.system = textOf(body.systemInstruction);
  turn.promptChars = turn.system.length;
  const contents = Array.isArray(body.contents) ? body.contents : [];
  for (let i = 0; i < contents.length; i++) {
    const c = bodyObject(contents[i]) ?? {};
    let toolResult: string | undefined;
    if (Array.isArray(c.parts)) {
      for (const part of c.parts) {
        const fr = bodyObject(bodyObject(part)?.functionResponse);
        if (fr !== undefined) toolResult = JSON.stringify(fr.response ?? {});
      }
    }
    const text = toolResult ?? textOf(c.parts);
    turn.promptChars += text.length;
    const isUser = c.role === undefined || c.role === "user" || c.role === "function";
    if (isUser && toolResult === undefined) turn.lastUser = text;
    if (i === contents.length - 1) {
      turn.lastRole = !isUser ? "other" : toolResult === undefined ? "user" : "tool";
      if (toolResult !== undefined) turn.toolResult = toolResult;
    }
  }
  if (Array.isArray(body.tools)) {
    for (const t of body.tools) {
      const decls = bodyObject(t)?.functionDeclarations;
      if (!Array.isArray(decls)) continue;
      for (const d of decls) {
        const fn = bodyObject(d);
        if (fn !== undefined && typeof fn.name === "string")
          turn.tools.push({ name: fn.name, schema: fn.parametersJsonSchema ?? fn.parameters });
      }
    }
  }
  return turn;
}

function usageMetadata(a: Answer): unknown {
  return {
    promptTokenCount: a.inputTokens,
    candidatesTokenCount: a.outputTokens,
    totalTokenCount: a.inputTokens + a.outputTokens,
    promptTokensDetails: [{ modality: "TEXT", tokenCount: a.inputTokens }],
  };
}

function response(parts: unknown[], finish: boolean, a: Answer, model: string, responseId: string): Record<string, unknown> {
  const candidate: Record<string, unknown> = { content: { role: "model", parts }, index: 0 };
  if (finish) candidate.finishReason = "STOP";
  const r: Record<string, unknown> = { candidates: [candidate] };
  if (finish) r.usageMetadata = usageMetadata(a);
  r.modelVersion = model;
  r.responseId = responseId;
  return r;
}

function generate(ex: SimExchange, model: string, stream: boolean): void {
  const body = bodyObject(ex.body);
  if (body === undefined) return ex.error(400, "Invalid JSON payload received.");
  if (!Array.isArray(body.contents) || body.contents.length === 0) {
    return ex.error(400, "* GenerateContentRequest.contents: contents is not specified");
  }
  const turn = readTurn(body, model);
  const a = composeAnswer(turn, ex.opts.completion_tokens);
  const id = ex.host.nextId();
  if (!stream) {
    const part = a.tool === undefined ? { text: a.text } : { functionCall: { name: a.tool.name, args: a.args } };
    return ex.json(200, response([part], true, a, model, id));
  }
  const responses: Record<string, unknown>[] = [];
  if (a.tool !== undefined) {
    // Gemini streams a function call whole, in one response.
    responses.push(response([{ functionCall: { name: a.tool.name, args: a.args } }], true, a, model, id));
  } else {
    const pieces = splitPieces(a.text, ex.opts.stream_chunks);
    for (let i = 0; i < pieces.length; i++) responses.push(response([{ text: pieces[i] }], i === pieces.length - 1, a, model, id));
  }
  if (ex.query.get("alt") === "sse") return ex.stream(responses.map(sseDataCrlf));
  const frames = responses.map((r, i) => (i === 0 ? "[" : ",\r\n") + JSON.stringify(r));
  ex.stream(frames, "application/json; charset=UTF-8", "]");
}

function embedOne(ex: SimExchange): void {
  const body = bodyObject(ex.body);
  if (body === undefined || body.content === undefined) return ex.error(400, "* EmbedContentRequest.content: content is not specified");
  ex.json(200, { embedding: { values: embed(textOf(body.content), dims(body)) } });
}

function embedBatch(ex: SimExchange): void {
  const body = bodyObject(ex.body);
  if (body === undefined || !Array.isArray(body.requests))
    return ex.error(400, "* BatchEmbedContentsRequest.requests: requests is not specified");
  const embeddings = body.requests.map((r) => {
    const req = bodyObject(r) ?? {};
    return { values: embed(textOf(req.content), dims(req)) };
  });
  ex.json(200, { embeddings });
}

function dims(req: Record<string, unknown>): number {
  const d = req.outputDimensionality;
  return typeof d === "number" && d > 0 ? Math.min(4096, Math.floor(d)) : EMBEDDING_DIMS;
}
