// Lint: type-aware checks the compiler does not make by itself. The point is
// `switch-exhaustiveness-check`: a switch over a union (an instruction's `op`, an issue's `code`) that
// misses a member is an error, so that no new instruction is ever skipped in silence (STYLE rule 8).
// The other rules are cheap ones the code already keeps; rules that would need mass rewrites stay off.
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig(
  {
    ignores: ["node_modules/", "dist/", "docs/", "fixtures/", "**/_build/", ".tmp/", "bin/", "src/verify/worker-entry.mjs"],
  },
  {
    files: ["**/*.ts"],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@typescript-eslint": tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // Every member handled, or a `default` that ends in assertNever; a `default` does not excuse a
      // switch from naming new members (considerDefaultExhaustiveForUnions: false).
      "@typescript-eslint/switch-exhaustiveness-check": [
        "error",
        { allowDefaultCaseForExhaustiveSwitch: true, considerDefaultExhaustiveForUnions: false, requireDefaultForNonUnion: false },
      ],
      "no-duplicate-case": "error",
      "no-fallthrough": "error",
      "no-self-compare": "error",
      "no-unsafe-finally": "error",
      "no-unreachable": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
      "@typescript-eslint/no-floating-promises": ["error", { ignoreVoid: true }],
      "@typescript-eslint/await-thenable": "error",
    },
  },
);
