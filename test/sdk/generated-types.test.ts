import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSdkTypes, SDK_TYPES_PATH } from '../../scripts/sdk-types';

/** CI fails when @herald/client's committed types no longer say what the API's document says. */
describe('@herald/client generated types', () => {
  let fresh: string;
  beforeAll(async () => {
    fresh = await generateSdkTypes();
  });

  it('match the OpenAPI document the API serves', () => {
    const committed = readFileSync(SDK_TYPES_PATH, 'utf8');
    // Not toBe: a diff of a 300 KB file helps nobody; the message says what to do.
    expect(committed === fresh, 'sdk/typescript/src/generated/openapi.ts is out of date with the OpenAPI document: run npm run sdk:generate').toBe(true);
  });

  it('come out the same every time, so the check fails on drift only', async () => {
    expect(await generateSdkTypes()).toBe(fresh);
  });
});
