import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { generateSdkTypes, SDK_TYPES_PATH } from './sdk-types';

// npm run sdk:generate: writes @herald/client's types from the document the API serves.
const text = await generateSdkTypes();
mkdirSync(dirname(SDK_TYPES_PATH), { recursive: true });
writeFileSync(SDK_TYPES_PATH, text);
console.log(`wrote ${relative(process.cwd(), SDK_TYPES_PATH)} (${text.length} characters)`);
