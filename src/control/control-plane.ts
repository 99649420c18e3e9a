import { isDeepStrictEqual } from "node:util";
import type { Config } from "../config/schema.js";
import { parseConfig } from "../config/load.js";
import type { TopologyEvent } from "../core/events.js";
import { ConfigError, GatewayError } from "../errors.js";
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
      /** Run-time changes (admin API) in force after this change: applied over the source at each reload. */
      readonly runtime_changes: readonly string[];
      /** Run-time changes this reload dropped (their target gone, or discarded on request), with why. */
      readonly dropped_runtime_changes: readonly string[];
    }
  | { readonly ok: false; readonly version: number; readonly source: string; readonly errors: readonly string[] };

export interface ControlLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A change made through the admin API: what it did, and the edit, to make again over a reloaded config. */
interface RuntimeChange {
  readonly what: string;
  readonly edit: (draft: ConfigDraft) => void;
}

/** `edit` made on a copy of `config`, validated like a config file (a GatewayError from the edit, or a ConfigError). */
function edited(config: Config, edit: (draft: ConfigDraft) => void, source: string): Config {
  const draft: ConfigDraft = structuredClone(config);
  edit(draft);
  return parseConfig(draft, source);
}

/**
 * The run-time changes made again over a config just read: each on a copy of the result so far,
 * validated; one that throws (its route or target gone) or no longer validates is dropped.
 */
function overlay(base: Config, changes: readonly RuntimeChange[]): { config: Config; kept: RuntimeChange[]; dropped: string[] } {
  let config = base;
  const kept: RuntimeChange[] = [];
  const dropped: string[] = [];
  for (const c of changes) {
    try {
      config = edited(config, c.edit, "run-time change");
      kept.push(c);
    } catch (err) {
      if (!(err instanceof GatewayError) && !(err instanceof ConfigError)) throw err;
      dropped.push(`${c.what}: ${err instanceof ConfigError ? err.problems.join("; ") : err.message}`);
    }
  }
  return { config, kept, dropped };
}

/** Config blocks a running gateway takes at once; every other block needs a restart. */
const HOT_BLOCKS = new Set(["routes", "timeouts", "admin", "reload", "client_keys", "limits", "cors", "cache"]);

/**
 * Changes a running gateway: reloads its config from the source (SIGHUP, POST /admin/reload, a
 * watched file, discovery) and applies admin changes (a target added, removed, re-weighted, its
 * key rotated). Both go one way: a whole new config, validated exactly as at start, then applied
 * in one step (Engine.apply). A config that does not validate changes nothing; its errors name
 * each field. Changes run one at a time, in order.
 *
 * Run-time changes (admin API) are kept in memory and made again over the source at each reload,
 * so a key rotated through the API is not undone by the next file or discovery change; they end
 * at a restart (nothing with a key is written to disk) or with a reload that discards them.
 */
export class ControlPlane {
  private chain: Promise<unknown> = Promise.resolve();
  private pending: RuntimeChange[] = [];
  private reloads = 0;
  private lastReload: { at: number; trigger: string; ok: boolean; errors: readonly string[] } | null = null;

  constructor(
    readonly gateway: Gateway,
    readonly source: ConfigSource,
    private readonly log: ControlLogger,
  ) {}

  /**
   * Reads the source again and applies it; `trigger` says who asked (SIGHUP, admin, file watch,
   * discovery). The run-time changes made since are applied again over it, in order, each
   * validated (one that no longer applies, its target gone, is dropped and said); with
   * `discardRuntimeChanges` the source alone is applied.
   */
  reload(trigger: string, options: { discardRuntimeChanges?: boolean } = {}): Promise<ReloadResult> {
    return this.serial(async () => {
      let config: Config;
      let kept: RuntimeChange[] = [];
      let dropped: string[];
      try {
        config = await this.source.load();
        if (options.discardRuntimeChanges === true) dropped = this.pending.map((c) => `${c.what}: discarded`);
        else {
          ({ config, kept, dropped } = overlay(config, this.pending));
          if (kept.length > 0) await this.source.prepare(config);
        }
      } catch (err) {
        return this.refused(err, trigger);
      }
      const result = this.apply(config, trigger);
      if (!result.ok) return result;
      this.pending = kept;
      if (dropped.length > 0) this.log.warn({ dropped }, "reload: run-time changes made through the admin API no longer apply");
      return { ...result, runtime_changes: kept.map((c) => c.what), dropped_runtime_changes: dropped };
    });
  }

  /**
   * One admin change: `edit` changes a copy of the running config (throwing a GatewayError for
   * an unknown route or target); the result is validated like a config file and applied. It is
   * kept as a run-time change, applied again over the source at each reload, until a restart.
   */
  change(what: string, edit: (draft: ConfigDraft) => void): Promise<ReloadResult> {
    return this.serial(async () => {
      let config: Config;
      try {
        config = edited(this.gateway.config, edit, "admin change");
        await this.source.prepare(config);
      } catch (err) {
        return this.refused(err, `admin: ${what}`);
      }
      const result = this.apply(config, `admin: ${what}`);
      if (result.ok) this.pending.push({ what, edit });
      return { ...result, runtime_changes: this.pending.map((c) => c.what) };
    });
  }

  /** What status shows of the control plane. */
  toJSON() {
    return {
      source: this.source.name,
      version: this.gateway.engine.version,
      reloads: this.reloads,
      last_reload: this.lastReload === null ? null : { ...this.lastReload, at: new Date(this.lastReload.at).toISOString() },
      runtime_changes: this.pending.map((c) => c.what),
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
    this.gateway.events.config({ trigger, ok: true, version: changes.version, errors: [] });
    this.log.info({ trigger, source: this.source.name, ...changes, restart_needed: restart }, "config applied");
    return {
      ok: true,
      version: changes.version,
      source: this.source.name,
      changes,
      restart_needed: restart,
      runtime_changes: [],
      dropped_runtime_changes: [],
    };
  }

  private refused(err: unknown, trigger: string): ReloadResult & { ok: false } {
    if (!(err instanceof ConfigError)) throw err;
    this.lastReload = { at: Date.now(), trigger, ok: false, errors: err.problems };
    this.gateway.events.config({ trigger, ok: false, version: this.gateway.engine.version, errors: err.problems });
    this.log.error({ trigger, source: this.source.name, errors: err.problems }, "config refused: the running config stays");
    return { ok: false, version: this.gateway.engine.version, source: this.source.name, errors: err.problems };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => {});
    return run;
  }
}
