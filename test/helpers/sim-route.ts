/**
 * The fixture of the simulator-backed end-to-end tests: simulators started from their options,
 * then the real gateway with a route whose targets point at them. Registers nothing global: the
 * test file calls `after(() => f.close())`.
 */
import type { ConfigInput } from "../../src/index.js";
import { startSimProvider, type SimProvider } from "../../src/simulator/sim-provider.js";
import type { SimOptions } from "../../src/simulator/sim-options.js";
import { startGateway, type RunningGateway } from "./harness.js";

export type RouteInput = ConfigInput["routes"][number];
export type TargetInput = RouteInput["targets"][number];

/** One started sim per options entry, in the same positions (a tuple stays a tuple). */
export type Started<S extends readonly SimOptions[]> = { -readonly [K in keyof S]: SimProvider };

export interface SimRouteOptions<S extends readonly SimOptions[] = SimOptions[]> {
  /** One simulator per entry, started in order. */
  sims: S;
  /** Overrides on the one route `{ name: "chat", surface: "openai", models: ["demo"] }` (no models on a rest route). */
  route?: Partial<Omit<RouteInput, "targets">>;
  /**
   * Overrides on the target of sim i, `{ id: "t<i>", provider: <the sim's dialect>, base_url: sim.url, key: "sk-sim-000<i>" }`:
   * one object per sim, or computed from the sim and its index.
   */
  target?: Partial<TargetInput>[] | ((sim: SimProvider, i: number) => Partial<TargetInput>);
  /** Instead of `route` and `target`: the whole list of routes, built from the started sims. */
  routes?: (sims: Started<S>) => RouteInput[];
  /** The rest of the gateway's config (server limits …). */
  config?: Omit<ConfigInput, "routes">;
  /** createGateway's options (a test clock for the inbound limits …). */
  gatewayOptions?: Parameters<typeof startGateway>[1];
}

export interface SimRoute<S extends readonly SimOptions[] = SimOptions[]> {
  sims: Started<S>;
  gw: RunningGateway;
  /** The gateway's base URL. */
  url: string;
  /** The config the gateway was started with (for a library gateway of the same routes). */
  config: ConfigInput;
  /** Closes the gateway, then the sims. */
  close(): Promise<void>;
}

export async function simRoute<S extends readonly SimOptions[] | []>(opts: SimRouteOptions<S>): Promise<SimRoute<S>> {
  const sims: SimProvider[] = [];
  const closeSims = () => Promise.all(sims.map((s) => s.close())).then(() => undefined);
  try {
    for (const o of opts.sims) sims.push(await startSimProvider(o));
    const started = sims as Started<S>;
    const config: ConfigInput = { ...opts.config, routes: opts.routes ? opts.routes(started) : [oneRoute(sims, opts.route, opts.target)] };
    const gw = await startGateway(config, opts.gatewayOptions);
    return {
      sims: started,
      gw,
      url: gw.url,
      config,
      close: async () => {
        await gw.close();
        await closeSims();
      },
    };
  } catch (err) {
    await closeSims();
    throw err;
  }
}

function oneRoute(sims: SimProvider[], route: SimRouteOptions["route"], target: SimRouteOptions["target"]): RouteInput {
  const surface = route?.surface ?? "openai";
  const overrides = (s: SimProvider, i: number) => (typeof target === "function" ? target(s, i) : target?.[i]);
  return {
    name: "chat",
    surface,
    ...(surface === "rest" ? {} : { models: ["demo"] }),
    ...route,
    targets: sims.map((s, i) => ({ id: `t${i}`, provider: s.options.dialect, base_url: s.url, key: `sk-sim-000${i}`, ...overrides(s, i) })),
  };
}
