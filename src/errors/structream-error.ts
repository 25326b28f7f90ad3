const MARKER = Symbol.for("structream.error");

/** Options shared by every structream error. */
export interface StructreamErrorOptions {
  /** The underlying error, kept for debugging (`error.cause`). */
  cause?: unknown;
}

/**
 * Base class of every error structream throws or reports. Each carries a stable snake_case
 * `code` that programs can switch on, and a message written for a person.
 *
 * @example
 * ```ts
 * try { parser.push("[1,]"); } catch (error) {
 *   if (isStructreamError(error)) console.log(error.code); // "unexpected_character"
 * }
 * ```
 */
export class StructreamError extends Error {
  /** Stable, machine-readable reason (snake_case). */
  readonly code: string;

  constructor(code: string, message: string, options: StructreamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
    Object.defineProperty(this, MARKER, { value: true });
  }
}

/**
 * True for any structream error, also one thrown by another copy of the package (another bundle,
 * another realm), where `instanceof` would answer false.
 */
export function isStructreamError(value: unknown): value is StructreamError {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
}
