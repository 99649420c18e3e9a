import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parse } from "yaml";
import type { Config, DiscoveryConfig } from "../config/schema.js";
import { targetSchema } from "../config/schema.js";
import { formatPath, parseConfig } from "../config/load.js";
import { ConfigError } from "../errors.js";
import { type ConfigSource, watchFile } from "./config-source.js";
import type { ControlLogger } from "./control-plane.js";
import { lookupSrv, type SrvRecord } from "./dns-srv.js";

/** A discovered target as written: the template with the entry's own fields over it. */
type TargetInput = Record<string, unknown>;

/**
 * Targets found at run time, through the reload path. The decorated source's `load()` reads the
 * config as before, then appends to each route with `discovery` the targets of its file and its
 * SRV records, and validates the whole like a config file. `watch()` asks DNS every interval_s
 * and watches the files; it calls `onChange` (→ `control.reload("discovery")`) only when a
 * route's discovered set differs from the one the last load gave.
 *
 *   file changed ─┐                              ┌─ same set: nothing
 *   DNS timer ────┴─► discover(route) ─► compare ┴─ other set: onChange ─► reload ─► load()
 *
 * A DNS failure keeps the last answer (a warning), never empties a route; a file gone, or one
 * that does not validate, keeps what it last listed (a warning naming the entry and field). Only
 * at the first load, with nothing to keep, is a bad file a ConfigError (the gateway won't start).
 */
export function withDiscovery(source: ConfigSource, log: ControlLogger): DiscoverySource {
  return new DiscoverySource(source, log);
}

export class DiscoverySource implements ConfigSource {
  readonly name: string;
  readonly file: string | undefined;
  private readonly dir: string;
  /** Each discovering route's spec, from the last load. */
  private specs = new Map<string, DiscoveryConfig>();
  /** What each route's discovery gave the last load (compared by fingerprint). */
  private applied = new Map<string, string>();
  /** The last good answer per SRV name and per file: what a failure keeps. */
  private readonly lastSrv = new Map<string, readonly SrvRecord[]>();
  private readonly lastFile = new Map<string, TargetInput[]>();
  private loaded = false;
  private debounceMs = 300;
  private readonly listeners = new Set<() => void>();
  private stops: (() => void)[] = [];
  private readonly checking = new Set<string>();
  private readonly recheck = new Set<string>();
  /** The set each route last asked a reload for: a refused reload is not asked again every poll. */
  private requested = new Map<string, string>();

  constructor(
    private readonly source: ConfigSource,
    private readonly log: ControlLogger,
  ) {
    this.name = source.name;
    this.file = source.file;
    this.dir = source.file === undefined ? process.cwd() : dirname(resolve(source.file));
  }

  async load(): Promise<Config> {
    const base = await this.source.load();
    const specs = new Map<string, DiscoveryConfig>();
    for (const r of base.routes) if (r.discovery !== undefined) specs.set(r.name, r.discovery);
    let config = base;
    const applied = new Map<string, string>();
    if (specs.size > 0) {
      const draft = structuredClone(base) as unknown as { routes: { name: string; targets: unknown[] }[] };
      // Routes discover side by side: a slow resolver costs a reload its timeout once, not per route.
      await Promise.all(
        draft.routes.map(async (route) => {
          const spec = specs.get(route.name);
          if (spec === undefined) return;
          const found = await this.discover(route.name, spec);
          applied.set(route.name, fingerprint(found));
          route.targets.push(...found);
        }),
      );
      config = parseConfig(draft, `${this.source.name} (with discovered targets)`);
      await this.source.prepare(config);
    }
    this.loaded = true;
    // Watchers are made again only when what they watch changed: closing and reopening them at
    // every reload could lose a write that lands in between (seen under load).
    const same =
      this.stops.length > 0 &&
      this.debounceMs === config.reload.debounce_ms &&
      JSON.stringify([...specs]) === JSON.stringify([...this.specs]);
    this.specs = specs;
    this.applied = applied;
    this.requested = new Map();
    this.debounceMs = config.reload.debounce_ms;
    if (!same) this.arm();
    return config;
  }

  prepare(config: Config): Promise<void> {
    return this.source.prepare(config);
  }

  /**
   * Watches every discovering route of the last load (again after each load: the routes may
   * change) until the returned function is called. Before any load, asks for one at once.
   */
  watch(onChange: () => void): () => void {
    const listener = () => onChange();
    this.listeners.add(listener);
    if (this.loaded) this.arm();
    else setImmediate(listener);
    return () => {
      if (this.listeners.delete(listener) && this.listeners.size === 0) this.disarm();
    };
  }

  private arm(): void {
    this.disarm();
    if (this.listeners.size === 0) return;
    for (const [route, spec] of this.specs) {
      if (spec.file !== undefined) this.stops.push(watchFile(resolve(this.dir, spec.file), this.debounceMs, () => void this.check(route)));
      if (spec.dns_srv !== undefined) {
        const timer = setInterval(() => void this.check(route), spec.interval_s * 1000);
        timer.unref();
        this.stops.push(() => clearInterval(timer));
      }
    }
  }

  private disarm(): void {
    for (const stop of this.stops) stop();
    this.stops = [];
  }

  /** Discovers a route's targets again; a set other than the applied one asks for a reload. */
  private async check(route: string): Promise<void> {
    const spec = this.specs.get(route);
    if (spec === undefined) return;
    // A change seen while the route is being checked is checked again right after, never dropped.
    if (this.checking.has(route)) {
      this.recheck.add(route);
      return;
    }
    this.checking.add(route);
    try {
      const found = await this.discover(route, spec);
      const print = fingerprint(found);
      if (print === this.applied.get(route) || print === this.requested.get(route) || this.specs.get(route) !== spec) return;
      this.requested.set(route, print);
      this.log.info({ route, discovered: found.map((t) => t["id"]) }, "discovered targets changed: reloading");
      for (const listener of this.listeners) listener();
    } catch (err) {
      this.log.warn({ route, error: String(err) }, "discovery failed; the running targets stay");
    } finally {
      this.checking.delete(route);
      if (this.recheck.delete(route)) void this.check(route);
    }
  }

  /** The route's discovered targets as written: its file's entries, then its SRV records. */
  private async discover(route: string, spec: DiscoveryConfig): Promise<TargetInput[]> {
    const found: TargetInput[] = [];
    if (spec.file !== undefined) found.push(...(await this.fromFile(route, spec, spec.file)));
    if (spec.dns_srv !== undefined) found.push(...srvTargets(await this.fromDns(route, spec, spec.dns_srv), spec));
    return found;
  }

  /**
   * The file's entries over the template. A file gone, or one that does not validate (a
   * half-written one too), keeps the entries it last gave, with a warning; with none yet, a
   * file gone gives none, and a bad one is a ConfigError (at start: the gateway does not start).
   */
  private async fromFile(route: string, spec: DiscoveryConfig, file: string): Promise<TargetInput[]> {
    const path = resolve(this.dir, file);
    const key = `${route}|${path}`;
    try {
      const targets = overTemplate(readEntries(await readFile(path, "utf8"), file), spec, file);
      this.lastFile.set(key, targets);
      return targets;
    } catch (err) {
      const kept = this.lastFile.get(key);
      const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
      if (kept === undefined && !missing) throw err;
      const errors = err instanceof ConfigError ? err.problems : [(err as Error).message];
      this.log.warn(
        { route, file: path, errors, kept: kept?.length ?? 0 },
        missing
          ? "discovery file not found: keeping the targets it last listed"
          : "discovery file does not validate: keeping the targets it last listed",
      );
      return kept ?? [];
    }
  }

  private async fromDns(route: string, spec: DiscoveryConfig, name: string): Promise<readonly SrvRecord[]> {
    const key = `${spec.dns_server ?? ""}|${name}`;
    try {
      const records = await lookupSrv(name, spec.dns_server);
      this.lastSrv.set(key, records);
      return records;
    } catch (err) {
      const kept = this.lastSrv.get(key) ?? [];
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      this.log.warn({ route, dns_srv: name, error: code, kept: kept.length }, "DNS SRV lookup failed: keeping the last known targets");
      return kept;
    }
  }
}

/**
 * One target per record: id `srv-<host>-<port>`, base URL `<scheme>://<host>:<port><base_path>`.
 * A record's weight (when not 0) is the target's; its priority's rank among the answer's
 * priorities is added to the template's tier (all one priority: the template's tier).
 */
function srvTargets(records: readonly SrvRecord[], spec: DiscoveryConfig): TargetInput[] {
  const priorities = [...new Set(records.map((r) => r.priority))].sort((a, b) => a - b);
  const tier = spec.template.tier ?? 1;
  return records.map((r) => ({
    ...spec.template,
    id: `srv-${r.host}-${r.port}`,
    base_url: `${spec.scheme}://${r.host}:${r.port}${spec.base_path}`,
    ...(r.weight > 0 ? { weight: r.weight } : {}),
    tier: tier + priorities.indexOf(r.priority),
  }));
}

/** Each entry over the template, validated as a target (errors name the file, the entry and the field). */
function overTemplate(entries: readonly unknown[], spec: DiscoveryConfig, file: string): TargetInput[] {
  const targets = entries.map((e) => ({ ...spec.template, ...(e as TargetInput) }));
  const problems: string[] = [];
  targets.forEach((t, i) => {
    const result = targetSchema.safeParse(t);
    if (!result.success) for (const issue of result.error.issues) problems.push(`${file}[${i}]${pathSuffix(issue.path)}: ${issue.message}`);
  });
  if (problems.length > 0) throw new ConfigError(problems, file);
  return targets;
}

/** A file's entries: a JSON or YAML list of target objects, or `{ targets: [...] }`. */
function readEntries(text: string, file: string): readonly unknown[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ConfigError([`${file}: ${(err as Error).message.split("\n")[0] ?? ""}`], file);
  }
  if (doc === null || doc === undefined) return [];
  const list = Array.isArray(doc) ? doc : (doc as { targets?: unknown }).targets;
  if (!Array.isArray(list)) throw new ConfigError([`${file}: must be a list of targets (or { targets: [...] })`], file);
  list.forEach((e, i) => {
    if (e === null || typeof e !== "object" || Array.isArray(e)) throw new ConfigError([`${file}[${i}]: must be a target object`], file);
  });
  return list;
}

function pathSuffix(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "";
  const p = formatPath(path);
  return p.startsWith("[") ? p : `.${p}`;
}

/** The same set in another order reads the same. */
function fingerprint(targets: readonly TargetInput[]): string {
  return targets
    .map((t) => JSON.stringify(t))
    .sort()
    .join("\n");
}
