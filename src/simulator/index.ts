/** The simulator's public surface: fake providers, the load generator, the demo's upstreams. */
export { startSimProvider, type SimProvider } from "./sim-provider.js";
export { SIM_DIALECTS, simOptionsSchema, type SimDialect, type SimOptions, type RestRequestInfo } from "./sim-options.js";
export type { SimStatsSnapshot, SimLogEntry } from "./sim-stats.js";
export { runLoad, errorKind, type LoadOptions } from "./load.js";
export { formatReport, formatProgress, type LoadReport, type LoadProgress, type LatencySummary, type TargetShare } from "./report.js";
export { startDemoProviders, startProviders, DEMO_PROVIDERS } from "./demo-providers.js";
export { registerSimulateCommand, parseDuration, parseProvidersYaml, type SimulateDeps } from "./cli.js";
