import type { OnUnsupported } from "./unsupported.js";

/** Options every canonical → upstream request translation takes. */
export interface RequestOptions {
  /** The model name the target expects (the client's alias already resolved). */
  model: string;
  onUnsupported: OnUnsupported;
}

/** An upstream request body and what the translation dropped or changed (for x-switchyard-warnings). */
export interface Translated<T> {
  body: T;
  warnings: string[];
}
