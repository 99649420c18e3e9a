import assert from "node:assert/strict";
import { test } from "node:test";
import { parseAnthropicRateLimit } from "../../src/providers/anthropic/rate-limit.js";
import { parseGeminiRateLimit } from "../../src/providers/gemini/rate-limit.js";
import { parseOpenAIRateLimit } from "../../src/providers/openai/rate-limit.js";
import { parseDurationMs, parseRetryAfter } from "../../src/providers/rate-limit.js";

const NOW = Date.parse("2025-06-01T12:00:00Z");

test("OpenAI duration strings parse to milliseconds", () => {
  assert.equal(parseDurationMs("12ms"), 12);
  assert.equal(parseDurationMs("1s"), 1000);
  assert.equal(parseDurationMs("6m0s"), 360_000);
  assert.equal(parseDurationMs("1h2m3.5s"), 3_723_500);
  assert.equal(parseDurationMs("0.5s"), 500);
  assert.equal(parseDurationMs("20"), 20_000);
  assert.equal(parseDurationMs("1m30ms"), 60_030);
  assert.equal(parseDurationMs("500us"), 0.5);
  assert.equal(parseDurationMs(""), undefined);
  assert.equal(parseDurationMs("soon"), undefined);
  assert.equal(parseDurationMs("5x"), undefined);
  assert.equal(parseDurationMs("1m5"), undefined);
});

test("retry-after-ms wins over retry-after; retry-after takes seconds or an HTTP-date", () => {
  assert.equal(parseRetryAfter({ "retry-after-ms": "250", "retry-after": "9" }, NOW), 250);
  assert.equal(parseRetryAfter({ "retry-after": "7" }, NOW), 7000);
  assert.equal(parseRetryAfter({ "retry-after": "1.5" }, NOW), 1500);
  assert.equal(parseRetryAfter({ "retry-after": "Sun, 01 Jun 2025 12:00:30 GMT" }, NOW), 30_000);
  assert.equal(parseRetryAfter({ "retry-after": "Sun, 01 Jun 2025 11:00:00 GMT" }, NOW), 0);
  assert.equal(parseRetryAfter({ "retry-after": "whenever" }, NOW), undefined);
  assert.equal(parseRetryAfter({}, NOW), undefined);
  assert.equal(parseRetryAfter({ "retry-after": ["3", "4"] }, NOW), 3000);
});

test("OpenAI rate-limit headers: remaining, limits, duration resets, binding reset", () => {
  const info = parseOpenAIRateLimit(
    {
      "x-ratelimit-limit-requests": "10000",
      "x-ratelimit-remaining-requests": "9999",
      "x-ratelimit-reset-requests": "6ms",
      "x-ratelimit-limit-tokens": "30000",
      "x-ratelimit-remaining-tokens": "0",
      "x-ratelimit-reset-tokens": "1m2.5s",
      "retry-after": "2",
    },
    NOW,
  );
  assert.deepEqual(info, {
    requestsLimit: 10000,
    requestsRemaining: 9999,
    tokensLimit: 30000,
    tokensRemaining: 0,
    requestsResetAtMs: NOW + 6,
    tokensResetAtMs: NOW + 62_500,
    resetAtMs: NOW + 62_500,
    retryAfterMs: 2000,
  });
});

test("OpenAI rate-limit headers absent give an empty record", () => {
  assert.deepEqual(parseOpenAIRateLimit({ "content-type": "application/json" }, NOW), {});
});

test("Anthropic rate-limit headers: RFC 3339 resets", () => {
  const info = parseAnthropicRateLimit(
    {
      "anthropic-ratelimit-requests-limit": "50",
      "anthropic-ratelimit-requests-remaining": "0",
      "anthropic-ratelimit-requests-reset": "2025-06-01T12:00:20Z",
      "anthropic-ratelimit-tokens-limit": "40000",
      "anthropic-ratelimit-tokens-remaining": "39000",
      "anthropic-ratelimit-tokens-reset": "2025-06-01T12:00:05.5Z",
      "retry-after": "20",
    },
    NOW,
  );
  assert.equal(info.requestsRemaining, 0);
  assert.equal(info.requestsResetAtMs, NOW + 20_000);
  assert.equal(info.tokensResetAtMs, NOW + 5_500);
  assert.equal(info.resetAtMs, NOW + 20_000, "requests are exhausted, so their reset binds");
  assert.equal(info.retryAfterMs, 20_000);
  assert.equal(info.tokensLimit, 40000);
});

test("Anthropic input/output token headers stand in when tokens-* is absent", () => {
  const info = parseAnthropicRateLimit(
    {
      "anthropic-ratelimit-input-tokens-limit": "100000",
      "anthropic-ratelimit-input-tokens-remaining": "90000",
      "anthropic-ratelimit-input-tokens-reset": "2025-06-01T12:00:10+00:00",
      "anthropic-ratelimit-output-tokens-limit": "20000",
      "anthropic-ratelimit-output-tokens-remaining": "500",
      "anthropic-ratelimit-output-tokens-reset": "2025-06-01T12:00:03Z",
    },
    NOW,
  );
  assert.equal(info.tokensRemaining, 500);
  assert.equal(info.tokensLimit, 20000);
  assert.equal(info.tokensResetAtMs, NOW + 3000);
  assert.equal(info.resetAtMs, NOW + 3000);
});

test("Gemini 429: RetryInfo retryDelay in the body", () => {
  const body = {
    error: {
      code: 429,
      message: "You exceeded your current quota",
      status: "RESOURCE_EXHAUSTED",
      details: [
        {
          "@type": "type.googleapis.com/google.rpc.QuotaFailure",
          violations: [
            {
              quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
              quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
            },
          ],
        },
        { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "37s" },
      ],
    },
  };
  assert.deepEqual(parseGeminiRateLimit({}, body, NOW), { retryAfterMs: 37_000, resetAtMs: NOW + 37_000 });
  assert.deepEqual(parseGeminiRateLimit({ "retry-after": "3" }, body, NOW), { retryAfterMs: 3000, resetAtMs: NOW + 3000 });
  assert.deepEqual(parseGeminiRateLimit({}, "not json", NOW), {});
});
