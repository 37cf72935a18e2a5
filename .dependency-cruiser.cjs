/**
 * The import rules of docs/architecture.md, checked in CI by `npm run lint` (dependency-cruiser):
 * no circle anywhere, layers point one way (api → services → domain, repositories → db), the
 * domain imports nothing of the project's outer layers, and workflows import only what is
 * deterministic (never the API, services, repositories, the database or activities' code).
 */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'An import circle: split the shared part out.', from: {}, to: { circular: true } },
    {
      name: 'domain-is-inward',
      severity: 'error',
      comment: 'The domain imports nothing of the outer layers.',
      from: { path: '^src/domain/' },
      to: { path: '^(src/(api|services|repositories|db|worker|entry|channels|rendering|config)|activities|workflows)/' },
    },
    {
      name: 'services-below-api',
      severity: 'error',
      comment: 'Services throw domain errors; only the API knows HTTP.',
      from: { path: '^src/services/' },
      to: { path: '^src/api/' },
    },
    {
      name: 'repositories-below-services',
      severity: 'error',
      comment: 'Repositories read and write the database; they call no service, route or activity.',
      from: { path: '^src/repositories/' },
      to: { path: '^(src/(api|services|worker|entry)|activities|workflows)/' },
    },
    {
      name: 'db-is-innermost',
      severity: 'error',
      comment: 'The database layer knows tables, not repositories or services.',
      from: { path: '^src/db/' },
      to: { path: '^(src/(api|services|repositories|worker|entry)|activities|workflows)/' },
    },
    {
      name: 'workflows-stay-deterministic',
      severity: 'error',
      comment: 'Workflow code runs in the sandbox: IO lives in activities, reached through proxyActivities with type imports only.',
      from: { path: '^workflows/' },
      to: { path: '^(src/(api|services|repositories|db|worker|entry|channels|rendering)|activities)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-tests',
      severity: 'error',
      comment: 'Shipped code never imports test code.',
      from: { path: '^(src|activities|workflows|temporal)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/|\\.d\\.mts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.mts', '.mjs', '.js', '.json'] },
  },
};
