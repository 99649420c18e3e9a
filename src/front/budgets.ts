import type { Config } from "../config/schema.js";
import { isChatEndpoint } from "../core/endpoint.js";
import type { GatewayEvents, RequestRecord } from "../core/events.js";
import type { RequestContext } from "../core/request-context.js";
import type { Route } from "../engine/route.js";
import { canonicalRequest } from "../exchange/request-translation.js";
import { GatewayError } from "../errors.js";
import type { AdmissionStep } from "../pipeline/admission.js";

const DAY_MS = 86_400_000;
/** Spend is counted in integer nano-dollars, as the usage ledger does: sums are exact whatever their order. */
const NANOS_PER_USD = 1e9;

/** What the budgets read of a gateway (the Gateway satisfies it). */
export interface BudgetedGateway {
  /** The config running now: caps are read from it per request, so a reload applies at once. */
  readonly config: Config;
  readonly events: GatewayEvents;
  route(name: string): Route | undefined;
  use(step: AdmissionStep): void;
}

/** Spend caps in USD (either may be absent). */
interface Caps {
  readonly daily_usd?: number | undefined;
  readonly monthly_usd?: number | undefined;
}

/** Which cap a spend reached: the monthly one wins (it lasts longer). */
type Period = "daily" | "monthly";

/** A usage ledger row as `GET /admin/usage` gives it (the UsageRow of telemetry/usage-query.ts fits). */
export interface SpendRow {
  readonly client_key?: string | undefined;
  readonly route?: string | undefined;
  /** The UTC day, YYYY-MM-DD; a row without it counts to the month only. */
  readonly day?: string | undefined;
  readonly cost_usd: number;
}

/** One client key's or route's spend in the current UTC day and month (nano-dollars); stale windows read as 0. */
class Spend {
  /** Start (epoch ms) of the day `today` counts. */
  day = -1;
  today = 0;
  /** Start (epoch ms) of the month `month` counts. */
  monthStart = -1;
  month = 0;
}

/** One capped key or route in `GET /admin/budgets`. */
export interface BudgetLine {
  name: string;
  spent_today_usd: number;
  spent_month_usd: number;
  daily_usd: number | null;
  monthly_usd: number | null;
  remaining_today_usd: number | null;
  remaining_month_usd: number | null;
  /** The cap reached now (requests are refused, or sent to the fallback route), or null. */
  exceeded: Period | null;
  /** Routes only: where requests go once a cap is reached (null: refused). */
  fallback_route?: string | null;
}

export interface BudgetReport {
  day_resets_at: string;
  month_resets_at: string;
  client_keys: BudgetLine[];
  routes: BudgetLine[];
}

/** One Budgets per gateway: createGateway installs it, startServer finds the same one to seed and show. */
const INSTALLED = new WeakMap<BudgetedGateway, Budgets>();

/**
 * Spend caps per client key (`client_keys[].budget`) and per route (`routes[].budget`), daily and
 * monthly in USD, UTC days and months.
 *
 * Spend is what each answer cost (RequestRecord.costUsd, usage × price), added when the request
 * ends; it lives in memory, seeded at start from the usage ledger (`seed`). A cost is known only
 * once the answer is complete, so the request that crosses a cap is served and those after it are
 * refused (402 `budget_exceeded`, Retry-After until the next UTC day or month) — or, for a route
 * with `fallback_route`, sent to that route while it is itself under its caps. Requests in flight
 * when a cap is crossed are served: a cap can be passed by at most what they cost.
 *
 * As an admission step it costs a property check per request for a route without a budget and a
 * map lookup for a request with a client key; the caps of client keys are indexed once per config.
 */
export class Budgets implements AdmissionStep {
  readonly name = "budgets";
  private readonly keys = new Map<string, Spend>();
  private readonly routes = new Map<string, Spend>();
  /** Client key name → its caps, for the config object `capsOf` (rebuilt when a reload replaces it). */
  private keyCaps = new Map<string, Caps>();
  private capsOf: Config | undefined = undefined;
  private readonly now: () => number;
  private dayStart = -1;
  private dayEnd = -1;
  private monthStart = -1;
  private monthEnd = -1;

  constructor(
    private readonly gateway: BudgetedGateway,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
    gateway.events.onRequest((record) => this.record(record));
  }

  /** The gateway's Budgets, made and installed as an admission step on first call. */
  static install(gateway: BudgetedGateway): Budgets {
    let b = INSTALLED.get(gateway);
    if (b === undefined) {
      b = new Budgets(gateway);
      INSTALLED.set(gateway, b);
      gateway.use(b);
    }
    return b;
  }

  /** Epoch ms of the current UTC month's start: where a seeding ledger query starts. */
  get monthStartsAt(): number {
    this.turn(this.now());
    return this.monthStart;
  }

  /** Adds an ended request's cost to its client key and route. */
  record(record: RequestRecord): void {
    const cost = record.costUsd;
    if (!(cost > 0)) return;
    this.turn(this.now());
    const nanos = Math.round(cost * NANOS_PER_USD);
    if (record.clientKey !== "") this.add(this.keys, record.clientKey, nanos);
    if (record.route !== null) this.add(this.routes, record.route, nanos);
  }

  /**
   * Takes the spend the usage ledger holds for this month (rows grouped by client_key, route and
   * day, from `monthStartsAt`). Each window keeps the larger of what is counted and what the ledger
   * says, so seeding twice, or after requests were counted, never counts anything twice.
   */
  seed(rows: readonly SpendRow[]): void {
    this.turn(this.now());
    const today = new Date(this.dayStart).toISOString().slice(0, 10);
    const keys = new Map<string, Spend>();
    const routes = new Map<string, Spend>();
    for (const row of rows) {
      const nanos = Math.round(row.cost_usd * NANOS_PER_USD);
      if (!(nanos > 0)) continue;
      const isToday = row.day === today;
      if (row.client_key !== undefined && row.client_key !== "") this.tally(keys, row.client_key, nanos, isToday);
      if (row.route !== undefined && row.route !== "") this.tally(routes, row.route, nanos, isToday);
    }
    this.merge(this.keys, keys);
    this.merge(this.routes, routes);
  }

  admit(ctx: RequestContext, route: Route): Route | undefined {
    const name = ctx.clientKey;
    if (name !== "") {
      const caps = this.capsOfKey(name);
      if (caps !== undefined) {
        const over = this.reached(this.keys.get(name), caps);
        if (over !== null) throw this.refusal([`client key "${name}" ${this.describe(this.keys.get(name), caps, over)}`], over);
      }
    }
    const budget = route.config.budget;
    if (budget === undefined) return undefined;
    const over = this.reached(this.routes.get(route.name), budget);
    if (over === null) return undefined;
    const why = `route "${route.name}" ${this.describe(this.routes.get(route.name), budget, over)}`;
    const fallbackName = budget.fallback_route;
    if (fallbackName === undefined) throw this.refusal([why], over);
    const fallback = this.gateway.route(fallbackName);
    if (fallback === undefined || fallback.surface !== route.surface)
      throw this.refusal([why, `its fallback route "${fallbackName}" is not a ${route.surface} route now`], over);
    const fallbackBudget = fallback.config.budget;
    const fallbackOver = fallbackBudget === undefined ? null : this.reached(this.routes.get(fallbackName), fallbackBudget);
    if (fallbackOver !== null && fallbackBudget !== undefined)
      throw this.refusal(
        [why, `its fallback route "${fallbackName}" ${this.describe(this.routes.get(fallbackName), fallbackBudget, fallbackOver)}`],
        // Either reset lets requests through again: the original route's, or the fallback's.
        over === "daily" || fallbackOver === "daily" ? "daily" : "monthly",
      );
    // The fallback may speak to targets of other dialects than the route prepared for.
    if (fallback.translates && !route.translates && isChatEndpoint(ctx.endpoint.kind)) canonicalRequest(ctx);
    return fallback;
  }

  /** Every capped client key and route: spent today and this month, caps, what remains (`GET /admin/budgets`). */
  report(): BudgetReport {
    const config = this.gateway.config;
    this.turn(this.now());
    const client_keys: BudgetLine[] = [];
    for (const k of config.client_keys) if (k.budget !== undefined) client_keys.push(this.line(k.name, k.budget, this.keys.get(k.name)));
    const routes: BudgetLine[] = [];
    for (const r of config.routes)
      if (r.budget !== undefined)
        routes.push({ ...this.line(r.name, r.budget, this.routes.get(r.name)), fallback_route: r.budget.fallback_route ?? null });
    return {
      day_resets_at: new Date(this.dayEnd).toISOString(),
      month_resets_at: new Date(this.monthEnd).toISOString(),
      client_keys,
      routes,
    };
  }

  /** The caps of a client key in the running config (the index is rebuilt once per config object). */
  private capsOfKey(name: string): Caps | undefined {
    const config = this.gateway.config;
    if (config !== this.capsOf) {
      const caps = new Map<string, Caps>();
      for (const k of config.client_keys) if (k.budget !== undefined) caps.set(k.name, k.budget);
      this.keyCaps = caps;
      this.capsOf = config;
    }
    return this.keyCaps.get(name);
  }

  /** Which cap the spend has reached (spent ≥ cap), the monthly first; null when under both. */
  private reached(spend: Spend | undefined, caps: Caps): Period | null {
    if (spend === undefined) return null;
    this.turn(this.now());
    if (caps.monthly_usd !== undefined && this.monthOf(spend) >= Math.round(caps.monthly_usd * NANOS_PER_USD)) return "monthly";
    if (caps.daily_usd !== undefined && this.todayOf(spend) >= Math.round(caps.daily_usd * NANOS_PER_USD)) return "daily";
    return null;
  }

  /** `reached its daily budget ($0.012 spent of $0.01 this UTC day)`. */
  private describe(spend: Spend | undefined, caps: Caps, over: Period): string {
    const spent = spend === undefined ? 0 : over === "daily" ? this.todayOf(spend) : this.monthOf(spend);
    const cap = over === "daily" ? caps.daily_usd : caps.monthly_usd;
    return `reached its ${over} budget ($${usd(spent)} spent of $${cap} this UTC ${over === "daily" ? "day" : "month"})`;
  }

  /** 402 budget_exceeded naming the caps, with Retry-After until the cap's window ends. */
  private refusal(reasons: string[], over: Period): GatewayError {
    const resetsAt = over === "daily" ? this.dayEnd : this.monthEnd;
    const retryAfter = Math.max(1, Math.ceil((resetsAt - this.now()) / 1000));
    return new GatewayError("budget_exceeded", `${reasons.join("; ")}; resets at ${new Date(resetsAt).toISOString()}`, {
      headers: { "retry-after": String(retryAfter) },
    });
  }

  private line(name: string, caps: Caps, spend: Spend | undefined): BudgetLine {
    const today = spend === undefined ? 0 : this.todayOf(spend);
    const month = spend === undefined ? 0 : this.monthOf(spend);
    const daily = caps.daily_usd;
    const monthly = caps.monthly_usd;
    return {
      name,
      spent_today_usd: usd(today),
      spent_month_usd: usd(month),
      daily_usd: daily ?? null,
      monthly_usd: monthly ?? null,
      remaining_today_usd: daily === undefined ? null : usd(Math.max(0, Math.round(daily * NANOS_PER_USD) - today)),
      remaining_month_usd: monthly === undefined ? null : usd(Math.max(0, Math.round(monthly * NANOS_PER_USD) - month)),
      exceeded: this.reached(spend, caps),
    };
  }

  private add(spends: Map<string, Spend>, name: string, nanos: number): void {
    let s = spends.get(name);
    if (s === undefined) spends.set(name, (s = new Spend()));
    if (s.day !== this.dayStart) {
      s.day = this.dayStart;
      s.today = 0;
    }
    if (s.monthStart !== this.monthStart) {
      s.monthStart = this.monthStart;
      s.month = 0;
    }
    s.today += nanos;
    s.month += nanos;
  }

  /** Sums seed rows into fresh windows of the current day and month. */
  private tally(spends: Map<string, Spend>, name: string, nanos: number, isToday: boolean): void {
    let s = spends.get(name);
    if (s === undefined) {
      spends.set(name, (s = new Spend()));
      s.day = this.dayStart;
      s.monthStart = this.monthStart;
    }
    if (isToday) s.today += nanos;
    s.month += nanos;
  }

  private merge(into: Map<string, Spend>, seeded: Map<string, Spend>): void {
    for (const [name, seed] of seeded) {
      const s = into.get(name);
      if (s === undefined) {
        into.set(name, seed);
        continue;
      }
      const today = Math.max(this.todayOf(s), seed.today);
      const month = Math.max(this.monthOf(s), seed.month);
      s.day = this.dayStart;
      s.monthStart = this.monthStart;
      s.today = today;
      s.month = month;
    }
  }

  private todayOf(s: Spend): number {
    return s.day === this.dayStart ? s.today : 0;
  }

  private monthOf(s: Spend): number {
    return s.monthStart === this.monthStart ? s.month : 0;
  }

  /** Moves the current UTC day and month when `now` left them (a Date only when the day turns). */
  private turn(now: number): void {
    if (now >= this.dayStart && now < this.dayEnd) return;
    this.dayStart = Math.floor(now / DAY_MS) * DAY_MS;
    this.dayEnd = this.dayStart + DAY_MS;
    const d = new Date(this.dayStart);
    this.monthStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    this.monthEnd = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  }
}

/** Nano-dollars as USD, to the micro-dollar (as the usage ledger shows them). */
function usd(nanos: number): number {
  return Math.round(nanos / 1000) / 1e6;
}
