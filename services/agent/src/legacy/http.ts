/** A legacy server answered with a non-2xx status or could not be reached. */
export class LegacyPostError extends Error {
  override readonly name = 'LegacyPostError';
}

/** POSTs JSON with the original's headers; resolves on 2xx, throws LegacyPostError otherwise. */
export async function postJson(url: string, apiKey: string, body: unknown, timeoutMs: number): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    throw new LegacyPostError(`POST ${url} failed: ${(cause as Error).message}`, { cause });
  }
  const text = await res.text().catch(() => '');
  if (res.status < 200 || res.status > 299)
    throw new LegacyPostError(`POST ${url} answered ${res.status}: ${text.slice(0, 200)}`);
}
