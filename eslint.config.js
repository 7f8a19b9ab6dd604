// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layering, held by `no-restricted-imports`. In flat config a rule set again by a later entry
 * replaces the earlier options for the files both match, so each folder gets exactly ONE entry that
 * lists everything it may not import: the SDKs homed elsewhere, and (in the pipeline and core) every
 * platform, queue, provider and config module. test/lint/layering.test.ts plants imports to prove it.
 */
const sdkHomes = {
  'src/bots/telegram/': ['grammy', '@grammyjs/*'],
  'src/bots/discord/': ['discord.js', '@discordjs/*'],
  'src/providers/openai/': ['openai'],
  'src/queue/': ['bullmq'],
  'src/redis/': ['ioredis'],
  'src/providers/offline/': ['@napi-rs/canvas'],
  'src/log.ts': ['pino'],
  'src/metrics/': ['prom-client'],
};
const allSdks = Object.values(sdkHomes).flat();
const homeOf = (sdk) => Object.keys(sdkHomes).find((home) => sdkHomes[home].includes(sdk));
/** A package name (`@scope/*` for a whole scope) as a regex for it and its subpaths, never for a local path. */
const packageRegex = (sdk) => `^${sdk.replace(/[.]/g, '\\.').replace('/*', '/[^/]+')}(/.*)?$`;
/** One pattern per SDK, saying where it belongs. */
const sdkPatterns = (sdks) =>
  sdks.map((sdk) => ({ regex: packageRegex(sdk), message: `${sdk} is imported only under ${homeOf(sdk)}` }));
const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
const neutralFolders = ['src/pipeline/', 'src/core/'];

const layering = [
  // Everywhere in src except an SDK's home and the neutral folders: no SDK at all.
  { files: ['src/**/*.ts'], ignores: [...Object.keys(sdkHomes), ...neutralFolders].map((f) => `${f}**`), rules: restrict(sdkPatterns(allSdks)) },
  // An SDK's home: its own SDK, no other.
  ...Object.entries(sdkHomes).map(([home, own]) => ({
    files: [home.endsWith('.ts') ? home : `${home}**/*.ts`],
    rules: restrict(sdkPatterns(allSdks.filter((sdk) => !own.includes(sdk)))),
  })),
  // The pipeline and core: platform-neutral, they depend on ports and get values.
  {
    files: neutralFolders.map((f) => `${f}**/*.ts`),
    rules: restrict([
      ...sdkPatterns(allSdks).map((p) => ({ ...p, message: `no SDKs in the pipeline or core (${p.message})` })),
      {
        group: ['**/bots/**', '**/queue/**', '**/jobs/**', '**/redis/**', '**/providers/**', '**/store/**'],
        message: 'the pipeline and core stay platform-neutral: depend on a port instead',
      },
      { group: ['**/config', '**/config.js', '**/config.ts'], message: 'the pipeline gets values, not config' },
    ]),
  },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'coverage/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'bin/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['error', 'warn'] }],
    },
  },
  ...layering,
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'bin/**', 'src/cli.ts'],
    rules: { 'no-console': 'off', 'no-restricted-imports': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
