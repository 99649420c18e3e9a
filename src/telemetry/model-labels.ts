import type { Target } from "../core/target.js";

/** Distinct models a route may use as label values beyond those its config names. */
const MAX_UNLISTED = 50;

/**
 * Model names as metric label values, bounded: the models a route's config names (its `models`
 * and its targets' `model`) always; a model only a client named (a route serving "*") while the
 * route has seen fewer than 50 such, then "other". A client cannot grow the series without end.
 */
export class ModelLabels {
  private readonly known = new Set<string>();
  private unlisted = 0;

  constructor(models: readonly string[], targets: readonly Target[]) {
    for (const m of models) if (m !== "*") this.known.add(m);
    for (const t of targets) if (t.model !== undefined) this.known.add(t.model);
  }

  label(model: string): string {
    if (model === "") return "none";
    if (this.known.has(model)) return model;
    if (this.unlisted >= MAX_UNLISTED) return "other";
    this.unlisted++;
    this.known.add(model);
    return model;
  }
}
