// Lint rules, including the layer rules of DESIGN.md §2: a wrong import fails `npm run lint`.
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

const TFJS = { group: ['@tensorflow/*'], message: 'tfjs is imported only under src/compute/ (DESIGN.md §2).' };
const REACT = { group: ['react', 'react-dom', 'react/*', 'react-dom/*'], message: 'No React in this layer (DESIGN.md §2).' };
const D3_SELECT = { name: 'd3', importNames: ['select', 'selectAll'], message: 'Only src/ui/useZoom.ts calls d3.select (DESIGN.md §5).' };
const layer = (name, ...others) => ({ group: others.map((o) => `**/${o}/**`).concat(others.map((o) => `../${o}`)), message: `${name}/ may not import ${others.join(', ')} (DESIGN.md §2).` });

export default tseslint.config(
  { ignores: ['dist/**', 'storybook-static/**', 'node_modules/**', 'bench-results/**', 'test-artifacts/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'warn',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['src/**/*.{ts,tsx}'],
    ignores: ['src/compute/**', 'src/ui/useZoom.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [TFJS], paths: [D3_SELECT] }] },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [TFJS, REACT, { group: ['../*', '../**'], message: 'core/ imports nothing of ours (DESIGN.md §2).' }], paths: [D3_SELECT] }] },
  },
  {
    files: ['src/compute/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [REACT, layer('compute', 'state', 'views', 'ui', 'app', 'methods', 'models', 'io')] }] },
  },
  {
    files: ['src/methods/**/*.ts', 'src/models/**/*.ts', 'src/io/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [TFJS, REACT, layer('this layer', 'state', 'views', 'ui', 'app')] }] },
  },
  {
    // state/ may use the other layers' types, never their code.
    files: ['src/state/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ ...TFJS, allowTypeImports: false }, { group: ['**/compute/**', '../compute/*', '**/methods/**', '**/models/**', '**/io/**', '**/views/**', '**/ui/**', '**/app/**'], message: 'state/ imports only types from the other layers (DESIGN.md §2).', allowTypeImports: true }] }],
    },
  },
  {
    files: ['src/views/**/*.{ts,tsx}'],
    rules: { 'no-restricted-imports': ['error', { patterns: [TFJS, layer('views', 'compute', 'app', 'methods', 'models', 'io')], paths: [D3_SELECT] }] },
  },
  {
    files: ['src/ui/**/*.{ts,tsx}'],
    ignores: ['src/ui/useZoom.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [TFJS, { group: ['../*', '../**'], message: 'ui/ is store-agnostic: it imports nothing app-specific (DESIGN.md §2).' }], paths: [D3_SELECT] }] },
  },
  {
    files: ['src/ui/useZoom.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [TFJS, { group: ['../*', '../**'], message: 'ui/ is store-agnostic.' }] }] },
  },
  {
    files: ['scripts/**/*.{js,mjs}', '*.config.{js,ts}'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
