import { readFile } from "node:fs/promises";
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type CompiledSchema, compileSchema, isStandardSchema, type SchemaInput } from "../schema/index.ts";
import { type Command, UsageError } from "./args.ts";

/** A schema read from the command line, compiled once (the stream reuses the compiled form). */
export interface LoadedSchema {
  /** As exported or parsed: what `structuredStream({ schema })` receives. */
  schema: SchemaInput;
  compiled: CompiledSchema;
  /** The absolute path it came from. */
  path: string;
}

const MODULE_EXTENSIONS = new Set([".js", ".mjs", ".cjs"]);
const TS_EXTENSIONS = new Set([".ts", ".mts", ".cts", ".tsx"]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

function pickExport(module: Record<string, unknown>, file: string, command: Command): unknown {
  for (const name of ["default", "schema"]) {
    const value = module[name];
    if (value !== undefined && (isStandardSchema(value) || isPlainObject(value))) return value;
  }
  const candidates = Object.entries(module).filter(([, v]) => isStandardSchema(v));
  if (candidates.length === 1) return candidates[0]![1];
  const names = Object.keys(module).join(", ") || "nothing";
  throw new UsageError(
    `${file} exports ${names}: export the schema as "default" or "schema" (a zod, valibot or arktype schema, or a JSON Schema object).`,
    command,
  );
}

async function importTypeScript(
  url: string,
  file: string,
  command: Command,
): Promise<Record<string, unknown>> {
  let tsImport: (specifier: string, parentURL: string) => Promise<unknown>;
  try {
    ({ tsImport } = await import("tsx/esm/api"));
  } catch {
    throw new UsageError(
      `${file} is TypeScript, which Node 20 cannot load by itself: install tsx (npm install --save-dev tsx), or compile the schema to .js, or write it as JSON Schema.`,
      command,
    );
  }
  return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
}

/**
 * Reads `--schema`: a JSON Schema file (`.json`, or any file that is JSON), or a module (`.js`,
 * `.mjs`, `.cjs`, and `.ts`/`.mts` through tsx's `tsImport`, since Node 20 does not run
 * TypeScript) whose `default` or `schema` export is a Standard Schema (zod 4, valibot, arktype) or
 * a JSON Schema object. The schema is compiled here, so a broken one is a usage error before any
 * request is made.
 *
 * @throws UsageError when the file is missing, not JSON, exports no schema, or does not compile.
 * @example
 * ```ts
 * const { schema } = await loadSchema("examples/article-summary.schema.json", process.cwd(), "run");
 * ```
 */
export async function loadSchema(file: string, cwd: string, command: Command): Promise<LoadedSchema> {
  const path = resolve(cwd, file);
  const ext = extname(path).toLowerCase();
  let schema: unknown;
  if (MODULE_EXTENSIONS.has(ext) || TS_EXTENSIONS.has(ext)) {
    const url = pathToFileURL(path).href;
    let module: Record<string, unknown>;
    try {
      module = TS_EXTENSIONS.has(ext)
        ? await importTypeScript(url, file, command)
        : ((await import(url)) as Record<string, unknown>);
    } catch (error) {
      if (error instanceof UsageError) throw error;
      const code = (error as { code?: string }).code;
      if (code === "ERR_MODULE_NOT_FOUND" && (error as Error).message.includes(path)) {
        throw new UsageError(`--schema ${file}: no such file.`, command);
      }
      throw new UsageError(`--schema ${file} could not be loaded: ${(error as Error).message}`, command);
    }
    schema = pickExport(module, file, command);
  } else {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new UsageError(
        code === "ENOENT"
          ? `--schema ${file}: no such file.`
          : `--schema ${file} cannot be read: ${(error as Error).message}`,
        command,
      );
    }
    try {
      schema = JSON.parse(text);
    } catch (error) {
      throw new UsageError(
        `--schema ${file} is not JSON (${(error as Error).message}); a schema module needs a .js, .mjs or .ts extension.`,
        command,
      );
    }
    if (!isPlainObject(schema)) {
      throw new UsageError(
        `--schema ${file} holds ${Array.isArray(schema) ? "an array" : typeof schema}, not a JSON Schema object.`,
        command,
      );
    }
  }
  let compiled: CompiledSchema;
  try {
    compiled = compileSchema(schema as SchemaInput);
  } catch (error) {
    throw new UsageError(`--schema ${file} is not a usable schema: ${(error as Error).message}`, command);
  }
  return { schema: schema as SchemaInput, compiled, path };
}
