import { watch, type FSWatcher } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import type { Config } from "../config/schema.js";
import { loadConfigFile } from "../config/load.js";
import { loadResponseMappers } from "../providers/rest/response-mapper.js";

/**
 * Where the running config comes from, read again at each reload. A config file is read,
 * interpolated and validated anew; a config given whole (the demo, the environment shortcut,
 * a library caller's object) reads back the same. `prepare` finishes a config that will run
 * (loads REST response mappers from the config's folder), for a reload and for an admin change.
 */
export interface ConfigSource {
  /** The file path, "environment", "demo"…: what logs and the reload answer name. */
  readonly name: string;
  /** The config file, when there is one to watch. */
  readonly file: string | undefined;
  /** Reads and validates the config; throws a ConfigError naming each bad field. */
  load(): Promise<Config>;
  prepare(config: Config): Promise<void>;
  /**
   * For a source that changes by itself (discovery): calls `onChange` when a reload would read
   * something new, until the returned function is called.
   */
  watch?(onChange: () => void): () => void;
}

export function fileSource(path: string, env: NodeJS.ProcessEnv = process.env): ConfigSource {
  const dir = dirname(resolve(path));
  return {
    name: path,
    file: path,
    async load() {
      const config = loadConfigFile(path, env);
      await loadResponseMappers(config, dir);
      return config;
    },
    prepare: (config) => loadResponseMappers(config, dir),
  };
}

/** A config given whole: a reload goes back to it (dropping admin changes). */
export function fixedSource(config: Config, name: string, baseDir = process.cwd()): ConfigSource {
  return {
    name,
    file: undefined,
    load: () => Promise.resolve(config),
    prepare: (c) => loadResponseMappers(c, baseDir),
  };
}

/**
 * Calls `onChange` (debounced) when the file is written, renamed over (editors and Kubernetes
 * ConfigMaps replace the file) or its folder changes under that name. Returns the stop function.
 */
export function watchFile(path: string, debounceMs: number, onChange: () => void): () => void {
  const dir = dirname(resolve(path));
  const name = basename(path);
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
    timer.unref();
  };
  // Watch the folder, not the file: a file replaced by rename keeps being seen.
  const watcher: FSWatcher = watch(dir, { persistent: false }, (_event, file) => {
    if (file === null || file === name || file.startsWith(`..`)) fire();
  });
  watcher.on("error", () => {});
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}
