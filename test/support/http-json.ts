export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * One HTTP call to a Herald API: objects go out as JSON, strings as they are (for malformed
 * bodies), and a JSON answer is parsed while HTML, JS and plain text stay text.
 */
export async function requestJson(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  timeoutMs?: number,
): Promise<ApiResponse> {
  const init: RequestInit = {
    method,
    headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
    ...(timeoutMs !== undefined && { signal: AbortSignal.timeout(timeoutMs) }),
  };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await fetch(`${baseUrl}${path}`, init);
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed };
}
