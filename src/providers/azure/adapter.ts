import { openAICompatible } from "../openai/adapter.js";

/** The Azure OpenAI API version sent when the target's `query` names none (GA, 2024-10-21). */
export const AZURE_API_VERSION = "2024-10-21";

/**
 * Azure OpenAI: OpenAI's wire format under a resource's own URL, one deployment per model
 * (`…/openai/deployments/{model}`, the slot filled with the target's model), an `api-key`
 * header and a required `api-version` query parameter on every call, health probes included.
 * The cheap call is the resource's model list (`…/openai/models`), not a deployment path.
 */
export const azure = openAICompatible({
  name: "azure",
  baseUrlExample: "https://<resource>.openai.azure.com/openai/deployments/{model}",
  auth: { type: "header", name: "api-key" },
  query: { "api-version": AZURE_API_VERSION },
  healthPath: (base) => {
    const at = base.indexOf("/deployments/");
    return `${at === -1 ? base : base.slice(0, at)}/models`;
  },
});
