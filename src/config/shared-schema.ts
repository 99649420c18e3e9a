/**
 * The `shared` block: what several gateway processes (on one machine or many) share so they act
 * as one gateway. Absent: each process keeps its state to itself (the embedded default).
 */
import { z } from "zod";

const positiveInt = () => z.number({ error: "must be a number" }).int({ error: "must be an integer" }).positive({ error: "must be > 0" });

export const sharedSchema = z
  .object({
    /**
     * The Redis (or Valkey; a Redis Cluster works when the prefix holds a hash tag, `{sy}:`) every
     * instance uses for the policies' state (breakers, benched and disabled keys), the inbound
     * limits' counters and the target quotas.
     */
    redis: z
      .object({
        url: z.string({ error: "must be a redis:// URL" }).default("redis://127.0.0.1:6379"),
        /** Every key and channel starts with it: instances with the same prefix are one gateway. */
        prefix: z.string({ error: "must be a string" }).min(1).default("switchyard:"),
        /** A Redis call slower than this counts as failed (the request goes on with local state). */
        timeout_ms: positiveInt().default(100),
      })
      .strict(),
    /** This instance's name in status and metrics (default: hostname-pid). */
    instance: z.string({ error: "must be a string" }).min(1).max(100).optional(),
    /**
     * While Redis does not answer: `split` enforces each limit divided by the number of instances
     * last seen (the sum stays near the limit), `local` enforces each limit whole in every instance.
     */
    on_outage: z.enum(["split", "local"], { error: "must be split or local" }).default("split"),
  })
  .strict();
export type SharedConfig = z.output<typeof sharedSchema>;
