/**
 * The house rules of src/: every folder is a room that may import only the rooms listed under it
 * (and itself), so dependencies run downward and nothing low knows the engine. No cycles at all.
 *
 *   cli, index, demo                 the top: may import anything
 *   server  ─► admin ─► control ─► pipeline ─► engine ─► exchange ─► core ─► state
 *                                       └──► balancer ──┘     └─► config ─► providers ─► errors
 *                                       └──► resilience ─┘
 *   telemetry (subscribes to core's events)      simulator (an independent oracle: imports nothing)
 *
 * `npm test` runs `depcruise`; a cycle or an import outside these lists fails it.
 */
const LEAF = ["errors\\.ts$", "version\\.ts$"];
const ROOMS = {
  providers: [...LEAF],
  config: ["providers", ...LEAF],
  state: [...LEAF],
  core: ["config", "providers", "state", ...LEAF],
  balancer: ["core", "config", ...LEAF],
  resilience: ["core", "state", "config", "providers", ...LEAF],
  exchange: ["core", "providers", "config", ...LEAF],
  engine: ["core", "balancer", "resilience", "exchange", "providers", "config", "state", ...LEAF],
  pipeline: ["engine", "exchange", "resilience", "core", "providers", "config", ...LEAF],
  front: ["pipeline", "engine", "resilience", "core", "providers", "config", "state", "exchange", ...LEAF],
  control: ["pipeline", "engine", "core", "providers", "config", "state", ...LEAF],
  admin: ["front", "control", "pipeline", "engine", "resilience", "exchange", "core", "providers", "config", ...LEAF],
  server: ["front", "admin", "control", "pipeline", "engine", "exchange", "core", "providers", "config", ...LEAF],
  cache: ["pipeline", "engine", "exchange", "core", "providers", "config", "state", ...LEAF],
  batch: ["pipeline", "engine", "exchange", "core", "providers", "config", ...LEAF],
  telemetry: ["core", "config", "state", "providers", ...LEAF],
  simulator: [],
  // The processes of `start --workers N` (primary and worker): below cli, beside index.
  cluster: ["control", "telemetry", "state", "config", ...LEAF],
};

const room = (name) => (name.endsWith("$") ? `^src/${name}` : `^src/${name}/`);

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment:
        "An import cycle: two files (or more) that need each other are one concept split badly, or one of them holds a word that belongs lower.",
      from: {},
      to: { circular: true },
    },
    ...Object.entries(ROOMS).map(([name, allowed]) => ({
      name: `${name}-imports-downward-only`,
      severity: "error",
      comment: `src/${name}/ may import only: ${allowed.length ? allowed.map((a) => a.replace(/\\\.ts\$$/, ".ts").replace(/\$$/, "")).join(", ") : "nothing outside itself"}.`,
      from: { path: room(name) },
      to: { path: "^src/", pathNot: [room(name), ...allowed.map(room)] },
    })),
    {
      name: "leaves-import-nothing",
      severity: "error",
      from: { path: LEAF.map((l) => `^src/${l}`) },
      to: { path: "^src/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    includeOnly: "^src/",
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
