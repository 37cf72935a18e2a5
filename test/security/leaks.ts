import { cwd } from 'node:process';

/**
 * Traces of JavaScript running inside a template: the canary environment variable, the test
 * process's HOME, PATH and working directory, the PWNED marker the corpus computes with
 * JavaScript, Function source and `[native code]`, and the process object.
 */
export function leaksIn(text: string, canary: string): string[] {
  const markers: [string, boolean][] = [
    ['the canary', text.includes(canary)],
    ['PWNED', text.includes('PWNED')],
    ['[native code]', text.includes('[native code]')],
    ['Function source', /function\s*[\w$]*\s*\(/.test(text) || /=>\s*\{/.test(text)],
    ['the process object', text.includes('[object process]')],
    ['HOME', Boolean(process.env.HOME && process.env.HOME.length > 3 && text.includes(process.env.HOME))],
    ['PATH', Boolean(process.env.PATH && text.includes(process.env.PATH))],
    ['the working directory', text.includes(cwd())],
    ['the Node version', text.includes(process.version)],
  ];
  return markers.filter(([, found]) => found).map(([what]) => what);
}
