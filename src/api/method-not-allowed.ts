/**
 * Maps a path to the methods the OpenAPI document declares for it, so a request with another
 * method gets 405 and an Allow header instead of a 404.
 */
export function declaredMethods(document: { paths?: Record<string, object | undefined> }): (path: string) => string[] | undefined {
  const routes = Object.entries(document.paths ?? {}).map(([template, item]) => ({
    pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
    methods: Object.keys(item ?? {})
      .filter((key) => ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'].includes(key))
      .map((method) => method.toUpperCase()),
  }));
  return (path) => routes.find((route) => route.pattern.test(path))?.methods;
}
