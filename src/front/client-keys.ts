import * as crypto from "node:crypto";
import type { ClientKeyConfig, InboundLimits } from "../config/access-schema.js";
import { maskSecret } from "../config/mask.js";
import type { Config } from "../config/schema.js";
import { GatewayError } from "../errors.js";
import type { KeyStoreLike, StoredKey } from "./key-store.js";

/** Where a key comes from: the config file (changed there, then reloaded) or the admin API (kept in the store). */
export type KeySource = "config" | "api";

/** What a key allows, whichever its source. */
export interface KeySettings {
  readonly name: string;
  readonly routes?: readonly string[] | undefined;
  readonly models?: readonly string[] | undefined;
  readonly limits: InboundLimits;
  readonly budget?: ClientKeyConfig["budget"];
  readonly priority?: ClientKeyConfig["priority"];
  readonly expires_at?: string | undefined;
  readonly disabled: boolean;
  readonly metadata: Readonly<Record<string, string>>;
}

/** The settings a new key is made with through the admin API (all but the name optional). */
export type NewKeySettings = Partial<Omit<KeySettings, "name">> & { readonly name: string };

/** A change to a key's settings; null clears a setting (no route or model restriction, no budget, no expiry). */
export interface KeyPatch {
  readonly routes?: readonly string[] | null;
  readonly models?: readonly string[] | null;
  readonly limits?: InboundLimits;
  readonly budget?: ClientKeyConfig["budget"] | null;
  readonly priority?: ClientKeyConfig["priority"] | null;
  readonly expires_at?: string | null;
  readonly disabled?: boolean;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** One client key as a request is checked against it: its lists made sets and its expiry a number, once. */
export class ClientKey {
  readonly name: string;
  /** Routes it may use; null: all. */
  readonly routes: ReadonlySet<string> | null;
  /** Models it may ask for; null: all. */
  readonly models: ReadonlySet<string> | null;
  /** Epoch ms after which it is refused; Infinity: never. */
  readonly expiresAt: number;

  constructor(
    readonly source: KeySource,
    readonly settings: KeySettings,
    /** SHA-256 of the secret, hex. Never shown. */
    readonly sha256: string,
    /** The secret masked to its last 4 characters; null when only its hash was given (key_sha256). */
    readonly display: string | null,
    /** Epoch ms (API keys); null for config keys. */
    readonly createdAt: number | null,
  ) {
    this.name = settings.name;
    this.routes = settings.routes === undefined ? null : new Set(settings.routes);
    this.models = settings.models === undefined ? null : new Set(settings.models);
    this.expiresAt = settings.expires_at === undefined ? Infinity : Date.parse(settings.expires_at);
  }

  get limits(): InboundLimits {
    return this.settings.limits;
  }

  get budget(): KeySettings["budget"] {
    return this.settings.budget;
  }

  get priority(): KeySettings["priority"] {
    return this.settings.priority;
  }

  get disabled(): boolean {
    return this.settings.disabled;
  }

  /** What the admin API shows of it: never the secret nor its hash, only the last 4 characters. */
  view(now = Date.now()): KeyView {
    const s = this.settings;
    return {
      name: this.name,
      source: this.source,
      key: this.display,
      routes: s.routes ?? null,
      models: s.models ?? null,
      limits: s.limits,
      budget: s.budget ?? null,
      priority: s.priority ?? null,
      expires_at: s.expires_at ?? null,
      expired: this.expiresAt <= now,
      disabled: s.disabled,
      metadata: s.metadata,
      created_at: this.createdAt === null ? null : new Date(this.createdAt).toISOString(),
    };
  }
}

export interface KeyView {
  name: string;
  source: KeySource;
  key: string | null;
  routes: readonly string[] | null;
  models: readonly string[] | null;
  limits: InboundLimits;
  budget: KeySettings["budget"] | null;
  priority: KeySettings["priority"] | null;
  expires_at: string | null;
  expired: boolean;
  disabled: boolean;
  metadata: Readonly<Record<string, string>>;
  created_at: string | null;
  /** An API key whose name or secret a config key now has: the config's wins, this one is not accepted. */
  shadowed?: true;
}

/** The prefix of the secrets the gateway makes, so a leaked one is recognisable (and greppable by scanners). */
export const SECRET_PREFIX = "sk-sy-";
/** Names of keys made through the API: they show up in URLs, logs and metric labels. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$/;

/**
 * SHA-256 of a presented secret, hex, once per request: crypto.hash (Node ≥ 20.12, one call)
 * measured at about 1.3 µs, twice as fast as a Hash object; engines allow 20.10, hence the fallback.
 */
export const sha256Hex: (secret: string) => string =
  typeof crypto.hash === "function"
    ? (secret) => crypto.hash("sha256", secret, "hex")
    : (secret) => crypto.createHash("sha256").update(secret).digest("hex");

/**
 * Every client key the gateway accepts, found by the SHA-256 of the key a request presents (one
 * hash and one Map lookup; a hash lookup leaks nothing through timing, so no constant-time
 * compare is needed). Two sources: the config's `client_keys` (the secret given in clear or as
 * its hash; only the hash is kept) and the keys made through the admin API, kept in the store
 * (never their secret). The config's are read again when a reload replaces the config (one
 * identity comparison per request notices it); on a name or secret both have, the config's wins.
 *
 * No key anywhere: the gateway is open (`enabled` false), as in the demo.
 */
export class ClientKeyRegistry {
  private byHash = new Map<string, ClientKey>();
  /** Secrets already found, as sent (see find). */
  private bySecret = new Map<string, ClientKey>();
  private byName = new Map<string, ClientKey>();
  /** API keys a config key shadows (same name or secret), by name. */
  private shadowed = new Set<string>();
  /** The config's key list the maps were built from. */
  private seen: readonly ClientKeyConfig[] | undefined = undefined;
  private stored: StoredKey[];

  constructor(
    private readonly source: { readonly config: Config },
    private readonly store: KeyStoreLike | undefined = undefined,
  ) {
    this.stored = store?.all() ?? [];
    this.current();
  }

  /** Whether any key exists (disabled and expired ones too): then every request needs one. */
  get enabled(): boolean {
    this.current();
    // A shared store that has not read its keys yet: closed, not open (a key may exist there).
    return this.byHash.size > 0 || this.store?.ready === false;
  }

  /**
   * The key whose secret this is, or undefined. A secret found once is remembered as sent (at most
   * one entry per key, dropped with the maps at any change), so a key's later requests cost a map
   * lookup instead of a SHA-256; unknown secrets are never remembered (a flood of them grows nothing).
   */
  find(secret: string): ClientKey | undefined {
    this.current();
    const known = this.bySecret.get(secret);
    if (known !== undefined) return known;
    const key = this.byHash.get(sha256Hex(secret));
    if (key !== undefined) this.bySecret.set(secret, key);
    return key;
  }

  /** The key of this name, or undefined (an admission step finds the request's key by the name the gate set). */
  named(name: string): ClientKey | undefined {
    this.current();
    return this.byName.get(name);
  }

  /** Every key, config ones first, as the admin API shows them. */
  list(): KeyView[] {
    this.current();
    const now = Date.now();
    const out = [...this.byName.values()].filter((k) => k.source === "config").map((k) => k.view(now));
    for (const s of this.stored) {
      const view = apiKey(s).view(now);
      out.push(this.shadowed.has(s.name) ? { ...view, shadowed: true } : view);
    }
    return out;
  }

  /**
   * Makes a key: a fresh random secret, returned here once and kept only as its SHA-256. Refused
   * (409) when the name is taken; the caller validated the settings.
   */
  create(settings: NewKeySettings): { key: ClientKey; secret: string } {
    this.current();
    if (!NAME.test(settings.name))
      throw new GatewayError("invalid_request", "name: must be 1-64 letters, digits or . _ : @ - (it shows in URLs, logs and metrics)", {
        param: "name",
      });
    if (this.byName.has(settings.name) || this.stored.some((s) => s.name === settings.name))
      throw new GatewayError("key_exists", `a client key named "${settings.name}" exists; pick another name, or PATCH it`, {
        param: "name",
      });
    const secret = SECRET_PREFIX + crypto.randomBytes(24).toString("base64url");
    const stored: StoredKey = {
      name: settings.name,
      sha256: sha256Hex(secret),
      display: maskSecret(secret) ?? "****",
      routes: settings.routes,
      models: settings.models,
      limits: settings.limits ?? {},
      budget: settings.budget,
      priority: settings.priority,
      expires_at: settings.expires_at,
      disabled: settings.disabled ?? false,
      metadata: settings.metadata ?? {},
      created_at: Date.now(),
    };
    this.store?.insert(stored);
    this.stored = [...this.stored, stored];
    this.rebuild();
    return { key: this.byName.get(stored.name) ?? apiKey(stored), secret };
  }

  /** Changes an API key's settings (a config key's are changed in the file: 409). */
  update(name: string, patch: KeyPatch): ClientKey {
    const old = this.apiKeyNamed(name, "changed");
    const next: StoredKey = {
      ...old,
      ...(patch.routes === undefined ? {} : { routes: patch.routes ?? undefined }),
      ...(patch.models === undefined ? {} : { models: patch.models ?? undefined }),
      ...(patch.limits === undefined ? {} : { limits: patch.limits }),
      ...(patch.budget === undefined ? {} : { budget: patch.budget ?? undefined }),
      ...(patch.priority === undefined ? {} : { priority: patch.priority ?? undefined }),
      ...(patch.expires_at === undefined ? {} : { expires_at: patch.expires_at ?? undefined }),
      ...(patch.disabled === undefined ? {} : { disabled: patch.disabled }),
      ...(patch.metadata === undefined ? {} : { metadata: patch.metadata }),
    };
    this.store?.update(next);
    this.stored = this.stored.map((s) => (s.name === name ? next : s));
    this.rebuild();
    return apiKey(next);
  }

  /** Removes an API key: its next request is refused (401). Config keys: 409. */
  remove(name: string): void {
    this.apiKeyNamed(name, "deleted");
    this.store?.delete(name);
    this.stored = this.stored.filter((s) => s.name !== name);
    this.rebuild();
  }

  /**
   * Takes a new list of API keys, whole (a shared store read again after another instance changed
   * one): the maps are rebuilt and swapped, so the next request sees the new list.
   */
  reload(stored: readonly StoredKey[]): void {
    this.stored = [...stored];
    this.rebuild();
  }

  /** Closes the store. */
  close(): void | Promise<void> {
    return this.store?.close();
  }

  private apiKeyNamed(name: string, verb: string): StoredKey {
    this.current();
    const s = this.stored.find((k) => k.name === name);
    if (s !== undefined) return s;
    if (this.byName.get(name)?.source === "config")
      throw new GatewayError(
        "key_exists",
        `client key "${name}" comes from the config file; it can only be ${verb} there (client_keys), then reloaded`,
      );
    throw new GatewayError("unknown_key", `no client key named "${name}"`);
  }

  /** Builds the maps again when the running config is not the one they were built from. */
  private current(): void {
    if (this.source.config.client_keys !== this.seen) this.rebuild();
  }

  /** Config keys first (the file is the truth), then the API's not shadowed by one. Swapped whole: a request sees one or the other. */
  private rebuild(): void {
    const list = this.source.config.client_keys;
    const byHash = new Map<string, ClientKey>();
    const byName = new Map<string, ClientKey>();
    const shadowed = new Set<string>();
    for (const c of list) {
      const k = configKey(c);
      if (byName.has(k.name) || byHash.has(k.sha256)) continue;
      byHash.set(k.sha256, k);
      byName.set(k.name, k);
    }
    for (const s of this.stored) {
      if (byName.has(s.name) || byHash.has(s.sha256)) {
        shadowed.add(s.name);
        continue;
      }
      const k = apiKey(s);
      byHash.set(k.sha256, k);
      byName.set(k.name, k);
    }
    this.byHash = byHash;
    this.bySecret = new Map();
    this.byName = byName;
    this.shadowed = shadowed;
    this.seen = list;
  }
}

function configKey(c: ClientKeyConfig): ClientKey {
  // The settings without the secret: what a key holds may be shown, its secret never.
  const { key, key_sha256, ...settings } = c;
  const sha = key !== undefined ? sha256Hex(key) : (key_sha256 ?? "");
  return new ClientKey("config", settings, sha, key === undefined ? null : maskSecret(key), null);
}

function apiKey(s: StoredKey): ClientKey {
  return new ClientKey("api", s, s.sha256, s.display, s.created_at);
}
