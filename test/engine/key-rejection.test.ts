/**
 * A 401/403/402 is about the target's key, not the request: the key is disabled until an
 * operator re-enables it, and the request moves on to the next key at once without using up
 * one of its retry.attempts (attempt-loop.ts RetryState.counted, key-disable.ts).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { InProcessRequest } from "../../src/index.js";
import { apiError, chat, chatAt, chatRoute, completion, gatewayWith, JSON_HEADERS, kinds, openaiTarget, origin } from "./fake-upstreams.js";

const cases = [
  { status: 401, reason: "auth" },
  { status: 403, reason: "auth" },
  { status: 402, reason: "quota" },
] as const;

for (const c of cases) {
  test(`a ${c.status} disables the key (${c.reason}) and moves on to the next key without using an attempt`, async (t) => {
    // One attempt only: a 500 here would end the request; a rejected key must not.
    const f = gatewayWith({ routes: [chatRoute([openaiTarget("a"), openaiTarget("b")], { retry: { attempts: 1 } })] });
    t.after(() => f.close());
    chatAt(f.agent, "a").reply(c.status, apiError("invalid api key"), { headers: JSON_HEADERS });
    chatAt(f.agent, "b").reply(200, completion(), { headers: JSON_HEADERS }).times(2);

    const res = await chat(f);

    assert.equal(res.status, 200);
    assert.equal(res.target, "b");
    assert.deepEqual(kinds(f), [
      ["a", "client_error"],
      ["b", "ok"],
    ]);
    const keys = f.route().policies.keys;
    assert.equal(keys.isDisabled(f.target("a")), true);
    assert.equal(keys.reason(f.target("a")), c.reason);
    const a: Record<string, unknown> = f.gateway.status().routes[0]!.targets[0]!;
    assert.deepEqual(a.excluded_by, ["key_disabled"]);

    const next = await chat(f);
    assert.equal(next.target, "b");
    assert.equal(next.attempts, 1, "the disabled key is not tried again");
  });
}

/**
 * Keys some providers reject with a 400 whose body says why (README "A key is bad on …"). The
 * attempt relays every 400 as an answer without reading its body, so the adapter's keyProblem
 * only ever sees "" and these keys stay enabled.
 */
interface BodySignalled {
  provider: "gemini" | "anthropic";
  reason: "auth" | "quota";
  route: { name: string; surface: "gemini" | "anthropic"; models: string[] };
  path: string;
  request: InProcessRequest;
  error: Record<string, unknown>;
}

const bodySignalled: BodySignalled[] = [
  {
    provider: "gemini",
    reason: "auth",
    route: { name: "gem", surface: "gemini", models: ["gemini-x"] },
    path: "/v1beta/models/gemini-x:generateContent",
    request: { model: "gemini-x", body: { contents: [{ role: "user", parts: [{ text: "hi" }] }] } },
    error: {
      error: {
        code: 400,
        message: "API key not valid. Please pass a valid API key.",
        status: "INVALID_ARGUMENT",
        details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID", domain: "googleapis.com" }],
      },
    },
  },
  {
    provider: "anthropic",
    reason: "quota",
    route: { name: "claude", surface: "anthropic", models: ["m"] },
    path: "/v1/messages",
    request: { body: { model: "m", max_tokens: 5, messages: [{ role: "user", content: "hi" }] } },
    error: {
      type: "error",
      error: { type: "invalid_request_error", message: "Your credit balance is too low to access the Anthropic API." },
    },
  },
];

for (const c of bodySignalled) {
  test(`a 400 from ${c.provider} that says the key is bad disables the key (${c.reason})`, async (t) => {
    const targets = ["k1", "k2"].map((id, i) => ({ id, tier: i + 1, provider: c.provider, base_url: origin(id), key: `${id}-test-key` }));
    const f = gatewayWith({ routes: [{ ...c.route, strategy: "tiered", retry: { attempts: 1 }, targets }] });
    t.after(() => f.close());
    f.agent.get(origin("k1")).intercept({ path: c.path, method: "POST" }).reply(400, c.error, { headers: JSON_HEADERS });

    await f.gateway.request(c.route.name, c.request).catch(() => undefined);

    const keys = f.route().policies.keys;
    assert.equal(keys.isDisabled(f.target("k1")), true);
    assert.equal(keys.reason(f.target("k1")), c.reason);
  });
}
