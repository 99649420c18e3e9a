import { isDeepStrictEqual } from "node:util";
import type { Config } from "../config/schema.js";
import { parseConfig } from "../config/load.js";
import type { TopologyEvent } from "../core/events.js";
import { ConfigError } from "../errors.js";
import type { Gateway } from "../pipeline/gateway.js";
import type { ConfigSource } from "./config-source.js";

/** A config as an admin change edits it: a plain, unfrozen copy of the running one. */
export type ConfigDraft = Config;

export type ReloadResult =
  | {
      readonly ok: true;
      /** The route generation now running. */
      readonly version: number;
      readonly source: string;
      readonly changes: TopologyEvent;
      /** Blocks that changed but take effect only at a restart (the listeners, the store…). */
      readonly restart_needed: readonly string[];
      /** Run-time changes (admin API) that this reload from the source replaced. */
      readonly dropped_runtime_changes: readonly string[];
    }
  | { readonly ok: false; readonly version: number; readonly source: string; readonly errors: readonly string[] };

export interface ControlLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Config blocks a running gateway takes at once; every other block needs a restart. */
const HOT_BLOCKS = new Set(["routes", "timeouts", "admin", "reload"]);

/**
 * Changes a running gateway: reloads its config from the source (SIGHUP, POST /admin/reload, a
 * watched file, discovery) and applies admin changes (a target added, removed, re-weighted, its
 * key rotated). Both go one way: a whole new config, validated exactly as at start, then applied
 * in one step (Engine.apply). A config that does not validate changes nothing; its errors name
 * each field. Changes run one at a time, in order.
 *
 * Run-time changes live until the next reload from the source or restart: the file stays the
 * truth (a reload says which run-time changes it replaced, and status lists those pending).
 */
export class ControlPlane {
  private chain: Promise<unknown> = Promise.resolve();
  private pending: string[] = [];
  private reloads = 0;
  private lastReload: { at: number; trigger: string; ok: boolean; errors: readonly string[] } | null = null;

  constructor(
    readonly gateway: Gateway,
    readonly source: ConfigSource,
    private readonly log: ControlLogger,
  ) {}

  /** Reads the source again and applies it; `trigger` says who asked (SIGHUP, admin, file watch, discovery). */
  reload(trigger: string): Promise<ReloadResult> {
    return this.serial(async () => {
      let config: Config;
      try {
        config = await this.source.load();
      } catch (err) {
        return this.refused(err, trigger);
      }
      const dropped = this.pending;
      const result = this.apply(config, trigger);
      if (!result.ok) return result;
      this.pending = [];
      if (dropped.length > 0) this.log.warn({ dropped }, "reload replaced run-time changes made through the admin API");
      return { ...result, dropped_runtime_changes: dropped };
    });
  }

  /**
   * One admin change: `edit` changes a copy of the running config (throwing a GatewayError for
   * an unknown route or target); the result is validated like a config file and applied.
   */
  change(what: string, edit: (draft: ConfigDraft) => void): Promise<ReloadResult> {
    return this.serial(async () => {
      const draft: ConfigDraft = structuredClone(this.gateway.config);
      edit(draft);
      let config: Config;
      try {
        config = parseConfig(draft, "admin change");
        await this.source.prepare(config);
      } catch (err) {
        return this.refused(err, `admin: ${what}`);
      }
      const result = this.apply(config, `admin: ${what}`);
      if (result.ok) this.pending.push(what);
      return result;
    });
  }

  /** What status shows of the control plane. */
  toJSON() {
    return {
      source: this.source.name,
      version: this.gateway.engine.version,
      reloads: this.reloads,
      last_reload: this.lastReload === null ? null : { ...this.lastReload, at: new Date(this.lastReload.at).toISOString() },
      runtime_changes: this.pending,
    };
  }

  private apply(config: Config, trigger: string): ReloadResult & { ok: boolean } {
    const before = this.gateway.config;
    let changes: TopologyEvent;
    try {
      changes = this.gateway.engine.apply(config);
    } catch (err) {
      return this.refused(err, trigger);
    }
    const restart = Object.keys(config).filter(
      (k) => !HOT_BLOCKS.has(k) && !isDeepStrictEqual(before[k as keyof Config], config[k as keyof Config]),
    );
    // The admin listener's address is bound at start, like the main one's.
    if (before.admin.port !== config.admin.port || before.admin.host !== config.admin.host) restart.push("admin.port");
    this.reloads++;
    this.lastReload = { at: Date.now(), trigger, ok: true, errors: [] };
    this.log.info({ trigger, source: this.source.name, ...changes, restart_needed: restart }, "config applied");
    return { ok: true, version: changes.version, source: this.source.name, changes, restart_needed: restart, dropped_runtime_changes: [] };
  }

  private refused(err: unknown, trigger: string): ReloadResult & { ok: false } {
    if (!(err instanceof ConfigError)) throw err;
    this.lastReload = { at: Date.now(), trigger, ok: false, errors: err.problems };
    this.log.error({ trigger, source: this.source.name, errors: err.problems }, "config refused: the running config stays");
    return { ok: false, version: this.gateway.engine.version, source: this.source.name, errors: err.problems };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => {});
    return run;
  }
}
