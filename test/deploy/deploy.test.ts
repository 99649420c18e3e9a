/**
 * The deployment files (deploy/, .dockerignore) fit the gateway they ship. No docker or kubectl
 * here, so each file is parsed and checked against the real thing: the compose stack's gateway
 * config is started against the compose stack's simulators (on loopback, Redis at 127.0.0.1:6379
 * under a prefix of its own), its /metrics is what the Grafana dashboard must query, its /healthz
 * is what the image's HEALTHCHECK and the Kubernetes probes ask, and every config the files carry
 * passes `switchyard validate`.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { Redis } from "ioredis";
import { parse, parseAllDocuments } from "yaml";
import { parseConfigText } from "../../src/config/load.js";
import { PROVIDERS } from "../../src/providers/registry.js";
import { parseProvidersYaml } from "../../src/simulator/cli.js";
import { startProviders } from "../../src/simulator/demo-providers.js";
import type { SimProvider } from "../../src/simulator/sim-provider.js";
import { ROOT } from "../helpers/cli.js";
import { freePort } from "../helpers/free-port.js";
import { startGateway, type RunningGateway } from "../helpers/harness.js";
import { call } from "../helpers/http.js";
import { parseProm, type Sample } from "../helpers/prom.js";
import { eventually } from "../helpers/wait.js";

const DEPLOY = join(ROOT, "deploy");
const text = (...path: string[]) => readFileSync(join(DEPLOY, ...path), "utf8");
const compose = parse(text("compose.yaml"), { merge: true }) as { services: Record<string, any> };
const k8sFiles = readdirSync(join(DEPLOY, "k8s"))
  .filter((f) => f.endsWith(".yaml"))
  .sort(); // the order `kubectl apply -f deploy/k8s/` takes them in
const k8s = k8sFiles.flatMap((f) =>
  parseAllDocuments(text("k8s", f)).map((d) => {
    assert.deepEqual(d.errors, [], `deploy/k8s/${f} parses`);
    return {
      file: f,
      ...(d.toJS() as { kind: string; apiVersion: string; metadata: { name: string; namespace?: string }; spec?: any; data?: any }),
    };
  }),
);
const kind = (k: string, name?: string) => {
  const found = k8s.find((d) => d.kind === k && (name === undefined || d.metadata.name === name));
  assert.ok(found, `deploy/k8s has a ${k}${name === undefined ? "" : ` named ${name}`}`);
  return found;
};
/** The compose services that run the gateway (`start`), by name. */
const gateways = Object.entries(compose.services).filter(([, s]) => s.command?.[0] === "start");
const configMapYaml = () => kind("ConfigMap").data["switchyard.yaml"] as string;

/** A config value with each `${VAR:-default}` read as its default. */
const byDefault = (value: string) => value.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}/g, "$1");

/** `${VAR}` references without a default: what the environment must give. */
function requiredVars(config: string): string[] {
  return [...new Set([...config.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1] as string))];
}

// The Dockerfile as instructions, stage by stage (continuation lines joined, comments dropped).
const stages: { from: string; steps: { op: string; args: string }[] }[] = [];
for (const line of readFileSync(join(DEPLOY, "Dockerfile"), "utf8").replace(/\\\n/g, " ").split("\n")) {
  const m = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
  if (m === null) continue;
  const [op, args] = [m[1] as string, (m[2] as string).trim()];
  if (op === "FROM") stages.push({ from: args, steps: [] });
  else stages.at(-1)?.steps.push({ op, args });
}
const steps = (stage: (typeof stages)[number], op: string) => stage.steps.filter((s) => s.op === op).map((s) => s.args);

let sims: { providers: SimProvider[]; close: () => Promise<void> };
let gw: RunningGateway;
let samples: Sample[];
let tmp: string;
const prefix = `switchyard-deploy-test:${randomUUID()}:`;
const LIMITED = "sk-deploy-limited-0002";
const chat = (key: string) =>
  call(`${gw.url}/v1/chat/completions`, {
    headers: { authorization: `Bearer ${key}` },
    body: { model: "demo", messages: [{ role: "user", content: "hello from the deploy test" }] },
  });

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), "switchyard-deploy-"));
  // The compose stack's sims, on loopback ports of their own.
  const list = parseProvidersYaml(text("sims.yaml"));
  sims = await startProviders(list.map((s) => ({ ...s, host: "127.0.0.1", port: 0 })));
  const origin = new Map(list.map((s, i) => [`http://sims:${s.port}`, new URL(sims.providers[i]!.url).origin]));
  // The compose stack's gateway config, its targets on those sims, Redis here under a prefix of its own,
  // and two client keys (one with a tiny limit) so the key and refusal series exist.
  const config = structuredClone(
    parseConfigText(text("switchyard.yaml"), "deploy/switchyard.yaml", { SWITCHYARD_STORE_PATH: ":memory:" }),
  ) as any;
  for (const route of config.routes)
    for (const t of route.targets) {
      const from = /^http:\/\/sims:\d+/.exec(t.base_url)?.[0];
      assert.ok(from !== undefined && origin.has(from), `${route.name}/${t.id} (${t.base_url}) calls a sim of deploy/sims.yaml`);
      t.base_url = t.base_url.replace(from, origin.get(from));
    }
  config.shared.redis = { ...config.shared.redis, url: "redis://127.0.0.1:6379", prefix };
  config.cache.redis = { ...config.cache.redis, url: "redis://127.0.0.1:6379", prefix: `${prefix}cache:` };
  config.client_keys = [
    { name: "deploy-test", key: "sk-deploy-test-0001" },
    { name: "deploy-limited", key: LIMITED, limits: { rps: 1 } },
  ];
  gw = await startGateway(config);
  assert.equal((await chat("sk-deploy-test-0001")).status, 200);
  // The cache is in Redis: the same question is a hit once the entry is written.
  await eventually(async () => (await chat("sk-deploy-test-0001")).headers["x-switchyard-cache"] === "hit", 10_000, "a cache hit");
  const refused = await Promise.all([chat(LIMITED), chat(LIMITED), chat(LIMITED)]);
  assert.ok(
    refused.some((r) => r.status === 429 && r.json?.error?.code === "gateway_rate_limited"),
    "an inbound limit refuses",
  );
  // Health checks of the quotes route make the first policy transitions.
  await eventually(
    async () => /^switchyard_policy_transitions_total\{/m.test((await call(`${gw.url}/metrics`)).text),
    10_000,
    "a policy transition",
  );
  samples = parseProm((await call(`${gw.url}/metrics`)).text);
});

after(async () => {
  await gw?.close();
  await sims?.close();
  rmSync(tmp, { recursive: true, force: true });
  const redis = new Redis("redis://127.0.0.1:6379", { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 500 }) as AsyncIterable<string[]>)
      if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
});

/** Runs `switchyard validate` (from source) on a file; a run that does not end in 60 s is killed and fails. */
function validate(file: string, env: Record<string, string>): Promise<{ code: number | null; signal: string | null; out: string }> {
  const cli = join(ROOT, "src", "cli.ts");
  const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), cli, "validate", "--config", file], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 60_000,
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  return new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal, out })));
}

test("every gateway config of the deploy files passes switchyard validate", async () => {
  // The store in a temporary folder (validate opens it) and Redis on a closed port (validate needs none).
  const env = { SWITCHYARD_STORE_PATH: join(tmp, "validate.db"), SWITCHYARD_REDIS_URL: `redis://127.0.0.1:${await freePort()}` };
  const configMapFile = join(tmp, "configmap-switchyard.yaml");
  writeFileSync(configMapFile, configMapYaml());
  // What the ConfigMap's config needs from the environment, the Deployment gives (from the Secret).
  const container = kind("Deployment", "switchyard").spec.template.spec.containers[0];
  const given = new Map<string, any>(container.env.map((e: any) => [e.name, e]));
  const secrets: Record<string, string> = {};
  for (const name of requiredVars(configMapYaml())) {
    assert.ok(given.get(name)?.valueFrom?.secretKeyRef?.name, `the Deployment sets ${name} from a Secret`);
    secrets[name] = `${name.toLowerCase()}-test-value`;
  }
  assert.deepEqual(requiredVars(text("switchyard.yaml")), [], "the compose config runs without variables");
  for (const [file, extra] of [
    [join(DEPLOY, "switchyard.yaml"), {}],
    [configMapFile, secrets],
  ] as const) {
    const r = await validate(file, { ...env, ...extra });
    assert.equal(r.signal, null, `switchyard validate ${file} did not exit (killed after 60 s); its output ended:\n${r.out.slice(-1500)}`);
    assert.equal(r.code, 0, `switchyard validate ${file}:\n${r.out.slice(0, 2000)}`);
    assert.match(r.out, /: valid\n/);
    assert.doesNotMatch(r.out, /test-value/, "validate masks the secrets");
  }
});

test("compose: two gateways on Redis and the sims, each with deploy/switchyard.yaml and the image of deploy/Dockerfile", () => {
  const cfg = parse(text("switchyard.yaml"));
  assert.equal(gateways.length, 2, "two gateway services");
  const redisHost = (url: string) => new URL(byDefault(url)).hostname;
  assert.equal(redisHost(cfg.shared.redis.url), "redis", "shared state on the compose Redis");
  assert.equal(redisHost(cfg.cache.redis.url), "redis", "the cache on the compose Redis");
  assert.match(compose.services.redis.image, /^(redis|valkey\/valkey):/);
  assert.equal(cfg.server.host, "0.0.0.0", "the gateway listens beyond the container's loopback");
  for (const [name, s] of gateways) {
    for (const dep of ["redis", "sims"]) assert.equal(s.depends_on?.[dep]?.condition, "service_healthy", `${name} waits for ${dep}`);
    assert.deepEqual(s.build, { context: "..", dockerfile: "deploy/Dockerfile" });
    const configPath = s.command[s.command.indexOf("--config") + 1] as string;
    assert.ok(s.volumes.includes(`./switchyard.yaml:${configPath}:ro`), `${name} mounts deploy/switchyard.yaml at ${configPath}`);
    assert.ok(
      s.ports.some((p: string) => p.endsWith(`:${cfg.server.port}`)),
      `${name} publishes the config's port`,
    );
    const storeDir = posix.dirname(byDefault(cfg.store.path));
    assert.ok(
      s.volumes.some((v: string) => v.endsWith(`:${storeDir}`)),
      `${name} keeps ${storeDir} on a volume`,
    );
    const grace = Number(/^(\d+)s$/.exec(s.stop_grace_period)?.[1]);
    assert.ok(grace * 1000 > cfg.server.drain_timeout_ms, `${name}: stop_grace_period outlasts the drain`);
  }
  assert.notEqual(gateways[0]![1].hostname, gateways[1]![1].hostname, "each instance is named after its own host");
  // The sims service runs deploy/sims.yaml, and each target speaks its sim's dialect.
  const sim = compose.services.sims;
  const simsPath = sim.command[sim.command.indexOf("--config") + 1] as string;
  assert.deepEqual(sim.command.slice(0, 2), ["simulate", "providers"]);
  assert.ok(sim.volumes.includes(`./sims.yaml:${simsPath}:ro`));
  const dialects = new Map(parseProvidersYaml(text("sims.yaml")).map((p) => [p.port, p.dialect]));
  assert.ok(
    JSON.stringify(sim.healthcheck.test).includes(`127.0.0.1:${[...dialects.keys()][0]}/_sim/stats`),
    "the sims' healthcheck asks a sim",
  );
  for (const route of cfg.routes)
    for (const t of route.targets) {
      const port = Number(new URL(t.base_url).port);
      assert.equal(dialects.get(port), PROVIDERS[t.provider as keyof typeof PROVIDERS].wire, `${t.id} speaks its sim's dialect`);
    }
});

test("prometheus scrapes both gateways at their config's port", () => {
  const prom = parse(text("prometheus.yml"));
  const port = parse(text("switchyard.yaml")).server.port as number;
  const job = prom.scrape_configs.find((j: any) => j.job_name === "switchyard");
  assert.equal(job.metrics_path ?? "/metrics", "/metrics");
  const targets = job.static_configs.flatMap((c: any) => c.targets).sort();
  assert.deepEqual(targets, gateways.map(([name]) => `${name}:${port}`).sort());
  assert.ok(compose.services.prometheus.volumes.includes("./prometheus.yml:/etc/prometheus/prometheus.yml:ro"));
});

test("grafana is provisioned with the compose Prometheus and the dashboard JSON", () => {
  const g = compose.services.grafana;
  const mounts = new Map<string, string>(g.volumes.map((v: string) => [v.split(":")[1], v.split(":")[0]]));
  assert.equal(mounts.get("/etc/grafana/provisioning"), "./grafana/provisioning");
  const ds = parse(text("grafana/provisioning/datasources/prometheus.yaml")).datasources[0];
  assert.equal(ds.type, "prometheus");
  assert.ok(compose.services[new URL(ds.url).hostname], "the data source is a compose service");
  const provider = parse(text("grafana/provisioning/dashboards/switchyard.yaml")).providers[0];
  const mounted = [...mounts].filter(([inside]) => posix.dirname(inside) === provider.options.path);
  assert.deepEqual(
    mounted.map(([, host]) => host),
    ["./grafana/switchyard-dashboard.json"],
  );
  assert.ok(statSync(join(DEPLOY, "grafana", "switchyard-dashboard.json")).isFile());
});

test("every query of the dashboard names metrics, labels and label values the gateway exposes", () => {
  const dash = JSON.parse(text("grafana", "switchyard-dashboard.json")) as { panels: any[]; templating: { list: any[] } };
  const labels = new Map<string, Set<string>>();
  for (const s of samples) {
    const set = labels.get(s.name) ?? labels.set(s.name, new Set()).get(s.name)!;
    for (const l of Object.keys(s.labels)) set.add(l);
  }
  const vars = new Set(dash.templating.list.map((v) => v.name as string));
  assert.equal(dash.templating.list.find((v) => v.type === "datasource")?.query, "prometheus");
  const exprs: { where: string; expr: string }[] = dash.panels.flatMap((p) =>
    (p.targets ?? []).map((t: any) => ({ where: p.title, expr: t.expr })),
  );
  for (const v of dash.templating.list) if (v.type === "query") exprs.push({ where: `variable ${v.name}`, expr: v.query.query });
  const used = new Set<string>();
  for (const { where, expr } of exprs) {
    for (const m of expr.matchAll(/\$(\w+)/g)) assert.ok(vars.has(m[1]!), `${where}: $${m[1]} is a variable of the dashboard`);
    const names = new Set<string>();
    for (const m of expr.matchAll(/\b((?:loadbalancer|switchyard|process|nodejs)_[a-z0-9_]+)(\{[^}]*\})?/g)) {
      const name = m[1]!;
      names.add(name);
      used.add(name);
      assert.ok(labels.has(name), `${where}: ${name} is not in the gateway's /metrics`);
      for (const [, label, op, value] of (m[2] ?? "").matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)) {
        if (label === "instance" || label === "job") continue; // Prometheus's target labels
        assert.ok(labels.get(name)!.has(label!), `${where}: ${name} has no label ${label}`);
        if (value!.includes("$") || op!.startsWith("!")) continue;
        const match =
          op === "=" ? (v: string | undefined) => v === value : (v: string | undefined) => new RegExp(`^(?:${value})$`).test(v ?? "");
        assert.ok(
          samples.some((s) => s.name === name && match(s.labels[label!])),
          `${where}: no ${name} series has ${label}${op}"${value}"`,
        );
      }
    }
    assert.ok(names.size > 0, `${where} queries no metric: ${expr}`);
    const known = new Set(["instance", "job", ...[...names].flatMap((n) => [...labels.get(n)!])]);
    for (const m of expr.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g))
      for (const l of m[1]!.split(",").map((x) => x.trim()))
        if (l !== "") assert.ok(known.has(l), `${where}: groups by ${l}, a label none of ${[...names].join(", ")} has`);
    if (expr.includes("histogram_quantile("))
      for (const m of expr.matchAll(/\bby\s*\(([^)]*)\)/g)) assert.match(m[1]!, /\ble\b/, `${where}: a quantile keeps the buckets' le`);
  }
  for (const n of [
    "switchyard_requests_total",
    "switchyard_request_duration_seconds_bucket",
    "loadbalancer_request_duration_seconds_bucket",
    "switchyard_attempts_total",
    "loadbalancer_circuit_breaker_state",
    "switchyard_cache_requests_total",
    "switchyard_in_flight_requests",
    "switchyard_shared_state_up",
  ])
    assert.ok(used.has(n), `the dashboard shows ${n}`);
  const all = exprs.map((e) => e.expr).join("\n");
  for (const q of ["0.5", "0.99"]) assert.ok(all.includes(`histogram_quantile(${q}, `), `the dashboard shows latency quantile ${q}`);
  assert.match(all, /switchyard_requests_total\{[^}]*status="429"/, "the dashboard shows refusals");
});

test("Dockerfile: a build stage, then a slim non-root runtime with dist, package.json and production node_modules", () => {
  assert.equal(stages.length, 2);
  const [build, run] = stages as [(typeof stages)[0], (typeof stages)[0]];
  assert.match(build.from, /^node:20-slim AS build$/i);
  assert.equal(run.from, "node:20-slim");
  const buildRuns = steps(build, "RUN").join("\n");
  for (const cmd of ["npm ci", "npm run build", "npm prune --omit=dev"]) assert.ok(buildRuns.includes(cmd), `the build stage runs ${cmd}`);
  // What the build reads, copied from the context and not kept out by .dockerignore.
  const copied = steps(build, "COPY").flatMap((a) => a.split(/\s+/).slice(0, -1));
  const ignored = readFileSync(join(ROOT, ".dockerignore"), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("#"));
  for (const need of ["package.json", "package-lock.json", "tsconfig.json", "src"]) {
    assert.ok(copied.includes(need) || copied.includes(`${need}/`), `the build stage copies ${need}`);
    assert.ok(!ignored.includes(need), `.dockerignore keeps ${need} in the context`);
  }
  for (const out of ["node_modules", "dist", ".git", "**/*.db"]) assert.ok(ignored.includes(out), `.dockerignore leaves out ${out}`);
  // The runtime: what `node dist/cli.js` needs (dist with prices and dashboard, package.json for the version, node_modules).
  assert.equal(steps(run, "WORKDIR")[0], "/app");
  const fromBuild = steps(run, "COPY").filter((a) => a.startsWith("--from=build"));
  for (const p of ["/app/dist", "/app/node_modules", "/app/package.json"])
    assert.ok(
      fromBuild.some((a) => a.split(/\s+/)[1] === p),
      `the runtime copies ${p} from the build stage`,
    );
  assert.ok(!steps(run, "RUN").some((r) => /npm (ci|install)/.test(r)), "the runtime installs nothing");
  const user = steps(run, "USER").at(-1) ?? "root";
  assert.ok(!/^(root|0)(:|$)/.test(user), `the runtime's USER (${user}) is not root`);
  const port = parse(text("switchyard.yaml")).server.port as number;
  assert.deepEqual(steps(run, "EXPOSE"), [String(port)]);
  assert.deepEqual(JSON.parse(steps(run, "ENTRYPOINT")[0]!), ["node", "dist/cli.js"]);
  assert.equal(
    (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { bin: Record<string, string> }).bin.switchyard,
    "dist/cli.js",
  );
  const cmd = JSON.parse(steps(run, "CMD")[0]!) as string[];
  assert.deepEqual(cmd, ["start", "--config", "/etc/switchyard/switchyard.yaml"]);
  assert.ok(steps(run, "HEALTHCHECK").length === 1);
  assert.ok(steps(run, "ENV").includes(`SWITCHYARD_HEALTHCHECK_URL=http://127.0.0.1:${port}/healthz`));
});

test("the image's HEALTHCHECK passes on a serving gateway and fails without one", async () => {
  const hc = steps(stages[1]!, "HEALTHCHECK")[0]!;
  const exec = JSON.parse(hc.slice(hc.indexOf("CMD") + 3)) as string[];
  assert.deepEqual(exec.slice(0, 2), ["node", "-e"]);
  const probe = (url: string) =>
    new Promise<number | null>((resolve) =>
      spawn(process.execPath, exec.slice(1), { env: { ...process.env, SWITCHYARD_HEALTHCHECK_URL: url }, stdio: "ignore" }).on(
        "close",
        resolve,
      ),
    );
  assert.equal(await probe(`${gw.url}/healthz`), 0);
  assert.equal(await probe(`${gw.url}/no-such-path`), 1, "an answer that is not 2xx fails it");
  assert.equal(await probe(`http://127.0.0.1:${await freePort()}/healthz`), 1, "no answer fails it");
});

test("k8s: the Deployment serves the ConfigMap's config on its port, probed where the gateway answers, non-root and read-only", async () => {
  assert.equal(kind("Namespace").file, k8sFiles[0], "the namespace is applied first");
  const ns = kind("Namespace").metadata.name;
  for (const d of k8s) if (d.kind !== "Namespace") assert.equal(d.metadata.namespace, ns, `${d.kind} ${d.metadata.name} is in ${ns}`);
  const cfg = parse(configMapYaml());
  const storePath = byDefault(cfg.store.path);
  const dep = kind("Deployment", "switchyard");
  assert.equal(dep.spec.replicas, 2);
  const pod = dep.spec.template.spec;
  for (const [k, v] of Object.entries(dep.spec.selector.matchLabels)) assert.equal(dep.spec.template.metadata.labels[k], v);
  const c = pod.containers[0];
  const http = c.ports.find((p: any) => p.name === "http");
  assert.equal(http.containerPort, cfg.server.port, "the container port is the config's server.port");
  assert.equal(cfg.server.host, "0.0.0.0");
  for (const probe of [c.readinessProbe, c.livenessProbe]) {
    assert.ok([http.name, http.containerPort].includes(probe.httpGet.port));
    const r = await call(`${gw.url}${probe.httpGet.path}`);
    assert.equal(r.status, 200, `the gateway answers the probe's ${probe.httpGet.path}`);
  }
  assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory);
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.notEqual(pod.securityContext.runAsUser, 0);
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.equal(c.securityContext.allowPrivilegeEscalation, false);
  // Where it reads and writes: the config from the ConfigMap, the store on an emptyDir.
  const volume = (mountPath: string) =>
    pod.volumes.find((v: any) => v.name === c.volumeMounts.find((m: any) => m.mountPath === mountPath)?.name);
  const configFile = c.args[c.args.indexOf("--config") + 1] as string;
  assert.equal(volume(posix.dirname(configFile))?.configMap?.name, kind("ConfigMap").metadata.name);
  assert.equal(posix.basename(configFile), "switchyard.yaml");
  assert.ok(volume(posix.dirname(storePath))?.emptyDir, `store.path ${storePath} is on an emptyDir`);
  const preStop = Number(c.lifecycle?.preStop?.exec?.command?.at(-1) ?? 0);
  assert.ok(pod.terminationGracePeriodSeconds > preStop + cfg.server.drain_timeout_ms / 1000, "the grace period outlasts the drain");
  // Clients reach it through the Service; Redis is the one the config names.
  const svc = kind("Service", "switchyard");
  for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(dep.spec.template.metadata.labels[k], v);
  assert.ok([http.name, http.containerPort].includes(svc.spec.ports[0].targetPort));
  const redisHost = new URL(byDefault(cfg.shared.redis.url)).hostname;
  assert.ok(kind("Service", redisHost), "Redis is served in the namespace (or point the config elsewhere)");
});

test("k8s: the HorizontalPodAutoscaler scales the Deployment on the gateway's in-flight gauge, served by the Prometheus adapter", () => {
  const hpa = kind("HorizontalPodAutoscaler");
  assert.equal(hpa.apiVersion, "autoscaling/v2");
  assert.deepEqual(hpa.spec.scaleTargetRef, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    name: kind("Deployment", "switchyard").metadata.name,
  });
  assert.ok(hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas > hpa.spec.minReplicas);
  const metric = hpa.spec.metrics.find((m: any) => m.type === "Pods").pods.metric.name as string;
  assert.ok(
    samples.some((s) => s.name === metric && Object.keys(s.labels).length === 0),
    `${metric} is one gauge per gateway in /metrics`,
  );
  const adapter = parse(text("k8s", "monitoring", "prometheus-adapter-values.yaml"));
  const rule = adapter.rules.custom.find((r: any) => r.name.as === metric);
  assert.ok(rule, `the adapter serves ${metric}`);
  assert.ok((rule.seriesQuery as string).startsWith(`${metric}{`));
  const monitor = parse(text("k8s", "monitoring", "podmonitor.yaml"));
  assert.equal(monitor.spec.podMetricsEndpoints[0].port, "http");
  assert.equal(monitor.spec.podMetricsEndpoints[0].path, "/metrics");
});
