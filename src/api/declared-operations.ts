const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** The part of an OpenAPI operation that the API reads back at run time. */
export interface DeclaredOperation {
  security?: Record<string, string[]>[];
}

export interface DeclaredOperations {
  /** The operation the document declares for this method and concrete path, if any. */
  operation(method: string, path: string): DeclaredOperation | undefined;
  /** The methods of the first template that matches this concrete path, or undefined when none does. */
  methods(path: string): string[] | undefined;
}

/**
 * Reads the operations back from the OpenAPI document: the document is where routes declare
 * their methods (for 405 with Allow) and who may call them (for authorization). Several
 * templates can match one path (`/v1/executions/unitary` and `/v1/executions/{executionId}`):
 * an operation is looked for in each, as the router does, while Allow lists the methods of the
 * first. A trailing slash is ignored, as the router does.
 */
export function declaredOperations(document: { paths?: Record<string, object | undefined> }): DeclaredOperations {
  const routes = Object.entries(document.paths ?? {}).map(([template, item]) => ({
    pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}/?$`),
    operations: new Map(
      Object.entries(item ?? {})
        .filter(([key]) => HTTP_METHODS.includes(key))
        .map(([method, operation]) => [method.toUpperCase(), operation as DeclaredOperation]),
    ),
  }));
  return {
    operation: (method, path) => routes.find((route) => route.pattern.test(path) && route.operations.has(method))?.operations.get(method),
    // Allow names the methods of the template the path is (the first declared), as clients read it.
    methods: (path) => {
      const route = routes.find((candidate) => candidate.pattern.test(path));
      return route && [...route.operations.keys()];
    },
  };
}
