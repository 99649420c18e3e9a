import { Resolver } from "node:dns/promises";

export interface SrvRecord {
  /** The target host, lower case, without the root's trailing dot. */
  readonly host: string;
  readonly port: number;
  /** Lower is preferred (RFC 2782). */
  readonly priority: number;
  /** Share among records of one priority; 0 means "no preference". */
  readonly weight: number;
}

/** One try waits this long; two tries in all, so a dead resolver costs a reload about 3 s. */
const TRY_TIMEOUT_MS = 1500;

/**
 * The SRV records of `name`, sorted (priority, host, port) so that the same answer in another
 * order reads the same, one per host:port. `server` is a `host:port` to ask instead of the
 * system's resolvers (a private zone, a test). Rejects on any DNS failure, NXDOMAIN included:
 * the caller decides what a failure keeps.
 */
export async function lookupSrv(name: string, server?: string): Promise<SrvRecord[]> {
  const resolver = new Resolver({ timeout: TRY_TIMEOUT_MS, tries: 2 });
  if (server !== undefined) resolver.setServers([server]);
  const answers = await resolver.resolveSrv(name);
  const seen = new Set<string>();
  const records: SrvRecord[] = [];
  for (const a of answers) {
    const host = a.name.replace(/\.$/, "").toLowerCase();
    if (seen.has(`${host}:${a.port}`)) continue;
    seen.add(`${host}:${a.port}`);
    records.push({ host, port: a.port, priority: a.priority, weight: a.weight });
  }
  return records.sort((a, b) => a.priority - b.priority || (a.host < b.host ? -1 : a.host > b.host ? 1 : a.port - b.port));
}
