// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * Lint rules: typescript-eslint's recommended set with type information, plus the rules that
 * keep a gateway process alive (a promise nobody awaits or catches can take it down) and the
 * code honest (no `any`, no `!` on what may be missing in src/). Formatting is Prettier's job.
 */
export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "bench/results/**", "**/*.mjs", "**/*.cjs", "test/fixtures/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    // One program for src, test and bench (tsconfig.check.json covers all three): types everywhere.
    languageOptions: { parserOptions: { project: "./tsconfig.check.json", tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false } }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/only-throw-error": "error",
      // `x != null` (null or undefined) is a deliberate idiom here; every other comparison is strict.
      eqeqeq: ["error", "always", { null: "ignore" }],
    },
  },
  {
    files: ["src/**/*.ts"],
    rules: { "@typescript-eslint/no-non-null-assertion": "error" },
  },
  {
    files: ["test/**/*.ts", "bench/**/*.ts"],
    rules: {
      // Tests read JSON answers loosely and assert presence with `!`; the assertions are the checks.
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      // node:test's test() registers a test; every other promise in tests must still be handled.
      "@typescript-eslint/no-floating-promises": ["error", { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "it", "describe", "suite"] }] }],
    },
  },
  {
    // The dashboard's browser script: plain JavaScript served as is, outside the TypeScript project.
    files: ["src/dashboard/**/*.js"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      sourceType: "script",
      parserOptions: { project: false },
      globals: {
        window: "readonly",
        document: "readonly",
        sessionStorage: "readonly",
        fetch: "readonly",
        AbortController: "readonly",
        TextDecoder: "readonly",
        Intl: "readonly",
        uPlot: "readonly",
      },
    },
  },
);
