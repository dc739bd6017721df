import type { CodegenConfig } from '@graphql-codegen/cli';

// Typed operations from the server's schema: every graphql(`...`) document
// in src/ is checked against ../schema.graphqls and gets its result and
// variables types in src/gql/ (committed; `npm run codegen` rewrites it).
const config: CodegenConfig = {
  schema: '../schema.graphqls',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**/*'],
  ignoreNoDocuments: false,
  generates: {
    './src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        scalars: { Time: 'string', Int64: 'number', JSON: 'unknown', Duration: 'string' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};
export default config;
