/** Secrets are shown only by their last 4 characters, everywhere (status, validate, logs, errors). */
export function maskSecret(secret: string | undefined): string | null {
  if (secret === undefined || secret === "") return null;
  if (secret.length <= 4) return "****";
  return `****${secret.slice(-4)}`;
}

const SECRET_HEADER = /key|token|secret|auth|password|cookie/i;

function maskValues(o: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, SECRET_HEADER.test(k) ? (maskSecret(v) ?? "") : v]));
}

/** A URL whose path or query may be a credential (a Slack hook): its origin, then only the last 4 characters. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    const rest = url.slice(u.origin.length);
    return rest === "" || rest === "/" ? url : `${u.origin}/${maskSecret(rest) ?? ""}`;
  } catch {
    return maskSecret(url) ?? "";
  }
}

interface MaskableChannel {
  readonly type: string;
  readonly url?: string;
  readonly secret?: string | undefined;
  readonly headers?: Readonly<Record<string, string>>;
  readonly smtp?: { readonly pass?: string | undefined };
}

/**
 * A copy of the config fit to print: target keys, the admin token, alert channels' secrets,
 * hook URLs and SMTP passwords, and secret-looking header values masked.
 */
export function maskConfig<
  T extends {
    admin: { token?: string };
    routes: readonly {
      targets: readonly MaskableTarget[];
      discovery?: { readonly template: Partial<MaskableTarget> };
    }[];
    alerts?: { channels: readonly MaskableChannel[] };
    tracing?: { headers: Readonly<Record<string, string>> };
    client_keys?: readonly { key?: string | undefined }[];
  },
>(config: T): T {
  return {
    ...config,
    ...(config.client_keys === undefined
      ? {}
      : { client_keys: config.client_keys.map((k) => (k.key === undefined ? k : { ...k, key: maskSecret(k.key) ?? undefined })) }),
    admin: config.admin.token === undefined ? config.admin : { ...config.admin, token: maskSecret(config.admin.token) },
    routes: config.routes.map((r) => ({
      ...r,
      targets: r.targets.map(maskTarget),
      // Discovered targets take the template's key and headers: as secret as a target's.
      ...(r.discovery === undefined ? {} : { discovery: { ...r.discovery, template: maskTarget(r.discovery.template) } }),
    })),
    ...(config.alerts === undefined ? {} : { alerts: { ...config.alerts, channels: config.alerts.channels.map(maskChannel) } }),
    ...(config.tracing === undefined ? {} : { tracing: { ...config.tracing, headers: maskValues(config.tracing.headers) } }),
  };
}

interface MaskableTarget {
  readonly key?: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string>> | undefined;
}

function maskTarget<T extends Partial<MaskableTarget>>(t: T): T {
  return {
    ...t,
    ...(t.key === undefined ? {} : { key: maskSecret(t.key) }),
    ...(t.headers === undefined ? {} : { headers: maskValues(t.headers) }),
    ...(t.query === undefined ? {} : { query: maskValues(t.query) }),
  };
}

function maskChannel(c: MaskableChannel): MaskableChannel {
  return {
    ...c,
    ...(c.url === undefined ? {} : { url: maskUrl(c.url) }),
    ...(c.secret === undefined ? {} : { secret: maskSecret(c.secret) ?? undefined }),
    ...(c.headers === undefined ? {} : { headers: maskValues(c.headers) }),
    ...(c.smtp === undefined
      ? {}
      : { smtp: { ...c.smtp, ...(c.smtp.pass === undefined ? {} : { pass: maskSecret(c.smtp.pass) ?? undefined }) } }),
  };
}
