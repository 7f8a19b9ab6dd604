// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Each SDK is imported in one folder only; the pipeline imports no SDK, bot, queue or config. */
const sdkHomes = {
  grammy: 'src/bots/telegram/',
  '@grammyjs/*': 'src/bots/telegram/',
  'discord.js': 'src/bots/discord/',
  '@discordjs/*': 'src/bots/discord/',
  openai: 'src/providers/openai/',
  bullmq: 'src/queue/',
  ioredis: 'src/redis/',
  '@napi-rs/canvas': 'src/providers/offline/',
};

const sdkRules = Object.entries(sdkHomes).map(([pkg, home]) => ({
  files: ['src/**/*.ts'],
  ignores: [`${home}**`],
  rules: {
    'no-restricted-imports': [
      'error',
      { patterns: [{ group: [pkg, `${pkg}/*`], message: `${pkg} is imported only under ${home}` }] },
    ],
  },
}));

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
  ...sdkRules,
  {
    files: ['src/pipeline/**/*.ts', 'src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/bots/**', '**/queue/**', '**/jobs/**', '**/redis/**', '**/providers/**'], message: 'the pipeline and core stay platform-neutral: depend on a port instead' },
            { group: ['**/config', '**/config.js', '**/config.ts'], message: 'the pipeline gets values, not config' },
            { group: ['grammy', '@grammyjs/*', 'discord.js', '@discordjs/*', 'openai', 'bullmq', 'ioredis', '@napi-rs/canvas'], message: 'no SDKs below the providers' },
          ],
        },
      ],
    },
  },
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
