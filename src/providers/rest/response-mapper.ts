import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError } from "../../errors.js";

/** What a response mapper learns about the call besides the vendor's JSON (no secrets). */
export interface MapperInfo {
  /** The target (vendor) that answered. */
  target: string;
  /** The route (service) the client called. */
  route: string;
  /** The client's sub-path, e.g. "/quote". */
  path: string;
  /** The client's query parameters (before any rename). */
  query: Record<string, string>;
}

/**
 * Maps one vendor's JSON answer to the service's own shape, so a client gets the same answer
 * whichever vendor served it. A module named by `response_mapper` exports it as `default` or as
 * `mapResponse`; it may be async.
 */
export type ResponseMapper = (json: unknown, info: MapperInfo) => unknown;

/** What this module reads of a target's config: the mapper's module path. */
export interface MapperTarget {
  readonly response_mapper?: string | undefined;
}

/** What this module reads of a config: every target's mapper. */
export interface MapperConfig {
  readonly routes: readonly { readonly targets: readonly MapperTarget[] }[];
}

/** Loaded mappers, by the (frozen, per-gateway) target config that names them. */
const loaded = new WeakMap<MapperTarget, ResponseMapper>();
const loading = new WeakMap<MapperTarget, Promise<ResponseMapper>>();

/**
 * Loads every response mapper of a config, so that a bad module path stops start-up rather than
 * failing the first request. Paths are relative to `baseDir` (the config file's directory).
 * Without this call a mapper is loaded on first use, relative to the working directory.
 */
export async function loadResponseMappers(config: MapperConfig, baseDir = process.cwd()): Promise<void> {
  const problems: string[] = [];
  await Promise.all(
    config.routes.flatMap((route, i) =>
      route.targets.map(async (t, j) => {
        const spec = t.response_mapper;
        if (spec === undefined) return;
        try {
          await load(t, spec, baseDir);
        } catch (err) {
          problems.push(`routes[${i}].targets[${j}].response_mapper: ${(err as Error).message}`);
        }
      }),
    ),
  );
  if (problems.length > 0) throw new ConfigError(problems, "response mappers");
}

/** The target's mapper: loaded already (sync), being loaded (a promise), or none. */
export function mapperFor(t: MapperTarget): ResponseMapper | Promise<ResponseMapper> | undefined {
  const spec = t.response_mapper;
  if (spec === undefined) return undefined;
  return loaded.get(t) ?? load(t, spec, process.cwd());
}

/** Loads `spec`, the module path named by t.response_mapper. */
function load(t: MapperTarget, spec: string, baseDir: string): Promise<ResponseMapper> {
  let p = loading.get(t);
  if (p === undefined) {
    const file = isAbsolute(spec) ? spec : resolve(baseDir, spec);
    p = import(pathToFileURL(file).href).then(
      (mod: Record<string, unknown>) => {
        const fn = typeof mod.default === "function" ? mod.default : mod.mapResponse;
        if (typeof fn !== "function") throw new Error(`"${spec}" exports no function (default or mapResponse)`);
        loaded.set(t, fn as ResponseMapper);
        return fn as ResponseMapper;
      },
      (err: NodeJS.ErrnoException) => {
        throw new Error(`cannot load "${spec}" (${err.code ?? err.message.split("\n")[0]})`);
      },
    );
    // A failed load is retried by the next caller (the file may appear), not cached forever.
    p.catch(() => loading.delete(t));
    loading.set(t, p);
  }
  return p;
}
