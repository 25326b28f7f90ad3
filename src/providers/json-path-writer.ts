/**
 * Writes JSON text from a sequence of (JSON Path, value) pieces, as Gemini streams a function
 * call's arguments (`functionCall.partialArgs`, with `streamFunctionCallArguments`): each piece
 * names the member it sets (`$.items[0].label`), a string may arrive in several pieces
 * (`willContinue`), and members arrive in document order. The text it returns, concatenated, is
 * the arguments object; any split gives the same text, so the answer parser reads it like any
 * other stream.
 */

type Segment = string | number;

interface Frame {
  key: Segment;
  kind: "object" | "array";
  members: number;
}

/** A scalar of a Gemini `PartialArg`. */
export type PartialScalar = string | number | boolean | null;

/** Parses `$.a.b[0]['c d']["e"]` into keys and indexes; undefined when it is not such a path. */
export function parseJsonPath(path: string): Segment[] | undefined {
  if (!path.startsWith("$")) return undefined;
  const segments: Segment[] = [];
  let i = 1;
  while (i < path.length) {
    const c = path[i];
    if (c === ".") {
      let j = i + 1;
      while (j < path.length && path[j] !== "." && path[j] !== "[") j++;
      if (j === i + 1) return undefined;
      segments.push(path.slice(i + 1, j));
      i = j;
    } else if (c === "[") {
      const close = path.indexOf("]", i);
      if (close === -1) return undefined;
      const inner = path.slice(i + 1, close).trim();
      if (/^\d+$/.test(inner)) segments.push(Number(inner));
      else if (/^'.*'$|^".*"$/.test(inner)) segments.push(inner.slice(1, -1));
      else return undefined;
      i = close + 1;
    } else return undefined;
  }
  return segments;
}

/** The incremental writer; see the module comment. */
export interface JsonPathWriter {
  /** Sets the member at `path`; a string with `willContinue` stays open for the next piece. */
  write(path: Segment[], value: PartialScalar, willContinue?: boolean): string;
  /** Closes whatever is open; returns the rest of the text (`{}` when nothing was written). */
  end(): string;
}

/** A new {@link JsonPathWriter} for one object. */
export function createJsonPathWriter(): JsonPathWriter {
  const stack: Frame[] = [];
  let openString: string | undefined;
  let started = false;

  const close = (frame: Frame): string => (frame.kind === "object" ? "}" : "]");
  const member = (frame: Frame, key: Segment): string => {
    const comma = frame.members++ > 0 ? "," : "";
    return frame.kind === "object" ? `${comma}${JSON.stringify(String(key))}:` : comma;
  };
  const samePath = (path: Segment[]): string => JSON.stringify(path);

  return {
    write(path, value, willContinue = false) {
      let out = "";
      if (!started) {
        started = true;
        stack.push({ key: "$", kind: "object", members: 0 });
        out += "{";
      }
      if (openString !== undefined) {
        if (openString === samePath(path) && typeof value === "string") {
          out += JSON.stringify(value).slice(1, -1);
          if (!willContinue) {
            out += '"';
            openString = undefined;
          }
          return out;
        }
        out += '"';
        openString = undefined;
      }
      if (path.length === 0) return out;
      // Close the containers that are not on this member's path.
      let common = 0;
      while (common < path.length - 1 && common + 1 < stack.length && stack[common + 1]!.key === path[common])
        common++;
      while (stack.length > common + 1) out += close(stack.pop()!);
      for (let i = common; i < path.length - 1; i++) {
        out += member(stack[stack.length - 1]!, path[i]!);
        const kind = typeof path[i + 1] === "number" ? "array" : "object";
        out += kind === "array" ? "[" : "{";
        stack.push({ key: path[i]!, kind, members: 0 });
      }
      out += member(stack[stack.length - 1]!, path[path.length - 1]!);
      if (typeof value === "string" && willContinue) {
        out += JSON.stringify(value).slice(0, -1);
        openString = samePath(path);
      } else out += JSON.stringify(value);
      return out;
    },
    end() {
      let out = started ? "" : "{";
      if (openString !== undefined) out += '"';
      openString = undefined;
      while (stack.length > 0) out += close(stack.pop()!);
      return started ? out : `${out}}`;
    },
  };
}
