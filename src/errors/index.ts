export { isStructreamError, StructreamError, type StructreamErrorOptions } from "./structream-error.ts";
