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

/** A copy of the config fit to print: target keys and secret-looking header values masked. */
export function maskConfig<
  T extends {
    admin: { token?: string };
    routes: readonly {
      targets: readonly { key?: string; headers: Readonly<Record<string, string>>; query?: Readonly<Record<string, string>> }[];
    }[];
  },
>(config: T): T {
  return {
    ...config,
    admin: config.admin.token === undefined ? config.admin : { ...config.admin, token: maskSecret(config.admin.token) },
    routes: config.routes.map((r) => ({
      ...r,
      targets: r.targets.map((t) => ({
        ...t,
        ...(t.key === undefined ? {} : { key: maskSecret(t.key) }),
        headers: maskValues(t.headers),
        ...(t.query === undefined ? {} : { query: maskValues(t.query) }),
      })),
    })),
  };
}
