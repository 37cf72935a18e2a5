/** Property names a template may not use as names, lookups or attribute strings. */
export declare const FORBIDDEN_PROPERTY_NAMES: ReadonlySet<string>;
/** Names of JavaScript's world (`process`, `require`, ...) a template may not use. */
export declare const FORBIDDEN_VARIABLE_NAMES: ReadonlySet<string>;
/**
 * Why a template may not be used (a short reason with line and column), or undefined when it
 * may. A template that does not parse gives undefined: the syntax check reports that.
 */
export declare function templateSafetyProblem(source: string): string | undefined;
