/**
 * Engine tests against fake upstreams: a gateway whose dispatchers are an undici MockAgent, so
 * every upstream answer (status, headers, body, delay, socket error) is scripted per test and a
 * request costs microseconds instead of a socket round trip.
 *
 * Conventions: target `x` lives at origin http://x.test; chat targets have base path /v1. Routes
 * built with chatRoute/restRoute use the tiered strategy with one tier per target, so failover
 * goes through the targets in the order listed (round-robin's order depends on its cursor).
 * A call no intercept matches fails inside the agent (net connect is off): it shows up as a
 * connection_failure attempt whose detail names UND_MOCK_ERR_MOCK_NOT_MATCHED, so asserting
 * on `attempts` / kinds() also catches a target called when it should not have been.
 */
import assert from "node:assert/strict";
import { type Dispatcher, type Interceptable, MockAgent } from "undici";
import type { OutcomeKind } from "../../src/core/outcome.js";
import type { Target } from "../../src/core/target.js";
import type { Route } from "../../src/engine/route.js";
import type { DispatcherFactory } from "../../src/engine/upstreams.js";
import {
  type ConfigInput,
  createGateway,
  type Gateway,
  GatewayError,
  type InProcessRequest,
  type InProcessResponse,
} from "../../src/index.js";

type RouteInput = ConfigInput["routes"][number];
type TargetInput = RouteInput["targets"][number];
export type MockInterceptor = ReturnType<Interceptable["intercept"]>;

/**
 * Dispatchers that go through the MockAgent itself, not its MockPool: the agent (a
 * DispatcherBase) wraps our new-API handler (onRequestStart/onResponse*) for the mock, which
 * only speaks the old hooks. close/destroy are no-ops: the test closes the agent.
 */
export function mockDispatcherFactory(agent: MockAgent): DispatcherFactory {
  return (origin) =>
    ({
      dispatch: (opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) => agent.dispatch({ ...opts, origin }, handler),
      close: async () => {},
      destroy: async () => {},
    }) as unknown as Dispatcher;
}

/** How one attempt ended, as the engine published it (the classifier's verdict). */
export interface AttemptRecord {
  readonly target: string;
  readonly kind: OutcomeKind;
  readonly status: number;
  readonly detail: string;
  readonly retryAtMs: number;
}

export interface FakeGateway {
  readonly gateway: Gateway;
  readonly agent: MockAgent;
  /** Every attempt's outcome, in the order the attempts ended. */
  readonly attempts: AttemptRecord[];
  /** The route (first by default) and one of its targets, for policy state. */
  route(name?: string): Route;
  target(id: string, route?: string): Target;
  close(): Promise<void>;
}

/** A gateway on a fresh MockAgent that refuses any request no intercept matches. */
export function gatewayWith(config: ConfigInput): FakeGateway {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const gateway = createGateway(config, { dispatcherFor: mockDispatcherFactory(agent) });
  const attempts: AttemptRecord[] = [];
  gateway.events.onAttempt(({ target: t, outcome: o }) =>
    attempts.push({ target: t.id, kind: o.kind, status: o.status, detail: o.detail, retryAtMs: o.retryAtMs }),
  );
  const route = (name?: string): Route => {
    const r = name === undefined ? gateway.routes[0] : gateway.route(name);
    assert.ok(r, `no route ${name ?? "(first)"}`);
    return r;
  };
  return {
    gateway,
    agent,
    attempts,
    route,
    target(id, routeName) {
      const t = route(routeName).targets.find((x) => x.id === id);
      assert.ok(t, `no target ${id}`);
      return t;
    },
    async close() {
      await gateway.close();
      await agent.close();
    },
  };
}

export const CHAT_PATH = "/v1/chat/completions";
export const JSON_HEADERS = { "content-type": "application/json" } as const;
export const CHAT_BODY = { model: "m", messages: [{ role: "user", content: "hi" }] } as const;

export const origin = (id: string): string => `http://${id}.test`;

/** An OpenAI target at http://<id>.test/v1. */
export function openaiTarget(id: string, extra: Partial<TargetInput> = {}): TargetInput {
  return { id, provider: "openai", base_url: `${origin(id)}/v1`, key: `sk-${id}-test-key`, ...extra };
}

/** A REST target at http://<id>.test/api. */
export function restTarget(id: string, extra: Partial<TargetInput> = {}): TargetInput {
  return { id, provider: "rest", base_url: `${origin(id)}/api`, key: `rk-${id}-test-key`, ...extra };
}

/** The tiers make failover go through the targets in the order listed. */
function ordered(targets: TargetInput[]): TargetInput[] {
  return targets.map((t, i) => ({ tier: i + 1, ...t }));
}

/** An OpenAI route "chat" serving model "m". */
export function chatRoute(targets: TargetInput[], extra: Partial<RouteInput> = {}): RouteInput {
  return { name: "chat", surface: "openai", models: ["m"], strategy: "tiered", ...extra, targets: ordered(targets) };
}

/** A REST route "orders" (service orders). */
export function restRoute(targets: TargetInput[], extra: Partial<RouteInput> = {}): RouteInput {
  return { name: "orders", surface: "rest", service: "orders", strategy: "tiered", ...extra, targets: ordered(targets) };
}

/** The chat-completions intercept of a target (POST <origin>/v1/chat/completions). */
export function chatAt(agent: MockAgent, id: string): MockInterceptor {
  return agent.get(origin(id)).intercept({ path: CHAT_PATH, method: "POST" });
}

/** An OpenAI chat completion saying `text`. */
export function completion(text = "ok"): Record<string, unknown> {
  return {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1,
    model: "m",
    choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
}

/** An OpenAI-style error body. */
export function apiError(message: string): Record<string, unknown> {
  return { error: { message, type: "api_error" } };
}

/** A socket error as undici reports it (classified by its code). */
export function socketError(code: string): Error {
  return Object.assign(new Error(`connect ${code}`), { code });
}

/** A chat call through the library front of route "chat". */
export function chat(f: FakeGateway, req: InProcessRequest = {}): Promise<InProcessResponse> {
  return f.gateway.request("chat", { body: CHAT_BODY, ...req });
}

/** The GatewayError a request fails with (fails the test when it succeeds or throws anything else). */
export async function gatewayError(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  assert.fail("expected the request to fail with a GatewayError");
}

/** Origins of the intercepts not used up (a target the requests did not reach keeps its reply). */
export function unused(agent: MockAgent): string[] {
  return agent
    .pendingInterceptors()
    .map((i) => i.origin)
    .sort();
}

/** [target, kind] of every attempt, the shape most tests assert on. */
export function kinds(f: FakeGateway): [string, OutcomeKind][] {
  return f.attempts.map((a) => [a.target, a.kind]);
}

/** Retry-After of an error in whole seconds (NaN when absent). */
export function retryAfterSecs(err: GatewayError): number {
  return Number(err.headers?.["retry-after"]);
}
