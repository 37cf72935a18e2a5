/** Prefixed console lines, so the supervised processes can be told apart in one terminal. */
export function logger(name: string) {
  return (line: string) => console.log(`[${name}] ${line}`);
}
