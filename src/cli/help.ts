import type { Command } from "./args.ts";
import { EXIT_CODE_HELP } from "./exit-codes.ts";

const MAIN = `structream: stream a language model's structured answer, watch its fields fill in, get validated JSON.

Usage:
  structream run --schema <file> --prompt <text> [options]   ask a model (or the built-in simulator)
  structream parse [file|-] [options]                        render a recorded stream
  structream simulate [options]                              start the provider simulator
  structream serve [options]                                 the demo page in a browser

Run "structream <command> --help" for a command's options and examples.

Options:
  -h, --help       this help
  -v, --version    the version

On a terminal, stderr shows a live view of the answer; otherwise (or with --json) stderr gets one
NDJSON event per line. The validated JSON alone goes to stdout, so "structream run ... > answer.json"
works.

${EXIT_CODE_HELP}
`;

const RUN = `Usage: structream run --schema <file> --prompt <text> [options]

Asks a model for an answer shaped by a schema and streams it: fields appear as they fill, the
validated JSON goes to stdout.

Which service answers:
  - with --base-url, that server (OpenAI-compatible unless --provider says otherwise);
  - else with an API key in the environment (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY or
    GOOGLE_API_KEY; or the variable named by --api-key-env), that provider;
  - else with --provider ollama (which needs no key), Ollama at OLLAMA_HOST or localhost:11434;
  - else (or with --simulator) the built-in simulator, started in-process; a line says so.

Options:
  -s, --schema <file>       JSON Schema (.json), or a module (.js, .mjs, .ts) whose default or
                            "schema" export is a zod 4 / valibot / arktype schema or a JSON Schema
  -p, --prompt <text>       what to ask
      --system <text>       a system message
      --provider <id>       openai (= openai-chat), openai-responses, anthropic, gemini, ollama
                            (default: the provider whose key is set, else openai-chat)
  -m, --model <name>        default: gpt-4.1-mini, claude-sonnet-4-5, gemini-2.5-flash, llama3.2;
                            with the simulator, "sim-<fault>" injects a fault (sim-truncate, ...)
      --base-url <url>      the API's base URL (e.g. http://localhost:8000/v1 for vLLM)
      --api-key-env <NAME>  read the API key from this environment variable
      --max-retries <n>     retries after a lost connection, time-out, 429 or 5xx (default 2)
      --timeout <duration>  fail when no data arrives for this long, e.g. 30s, 500ms (default 60s)
      --lenient             accept JSON wrapped in a Markdown fence or prose
  -o, --out <file>          write the validated JSON to <file> instead of stdout
      --record <file>       save the raw response with its timing (replay: parse --pace recorded)
      --json                NDJSON events on stderr even on a terminal (partials carry patches)
      --snapshot-every <ms> NDJSON: also the whole value on a partial, at most every <ms>
      --no-color            no colours (NO_COLOR=1 does the same)
  -h, --help                this help

Simulator only:
      --simulator           use the built-in simulator even when an API key is set
      --fault <fault>       refusal, truncate, drop, stall, malformed, invalid-json,
                            schema-violation, error-event, 429, 500, ... ; add -once to make it
                            transient (e.g. drop-once: the retry succeeds)
      --pace <pace>         realtime (default), fast, or deltas a second (e.g. 20)
      --seed <seed>         the answer's seed (same seed, same answer)
      --diverge             each retry gets a different answer (with --fault drop-once: the
                            retry contradicts what the first attempt showed)
      --blocks <list>       blocks beside the answer, as real responses carry them:
                            preamble, thinking, tools, server-tool (comma-separated)

-p is --prompt in every command (serve and simulate take the port as --port only).

Examples:
  structream run --schema examples/article-summary.schema.json \\
    --prompt "Summarize the history of the printing press" > summary.json
  structream run -s examples/article-summary.schema.ts -p "..." --provider anthropic
  structream run -s schema.json -p "..." --base-url http://localhost:11434 --provider ollama -m qwen3
  structream run -s schema.json -p "..." --simulator --fault drop-once --json 2> events.ndjson
  structream run -s schema.json -p "..." --simulator -m sim-truncate; echo "exit $?"  # exit 4

${EXIT_CODE_HELP}
`;

const PARSE = `Usage: structream parse [file|-] [options]

Reads a recorded stream and renders it as "run" does: a provider's SSE capture (OpenAI Chat or
Responses, Anthropic, Gemini), Ollama's NDJSON, or the raw JSON text of an answer. Without a file,
or with "-", it reads stdin. The format is detected unless --provider names it.

Options:
      --provider <id>       auto (default), openai-chat, openai-responses, anthropic, gemini,
                            ollama or text (raw JSON)
  -s, --schema <file>       validate against this schema, and count progress by its fields
      --pace <pace>         replay speed: instant (default), recorded (the capture's own timing
                            when it has one, else 70 chunks a second) or chunks a second (e.g. 30)
      --lenient             accept JSON wrapped in a Markdown fence or prose
  -o, --out <file>          write the validated JSON to <file> instead of stdout
      --json                NDJSON events on stderr even on a terminal (partials carry patches)
      --snapshot-every <ms> NDJSON: also the whole value on a partial, at most every <ms>
      --no-color            no colours (NO_COLOR=1 does the same)
  -h, --help                this help

A capture with timing ("structream run --record capture.ndjson") is NDJSON of
{"t": <ms since the request>, "chunk": "<wire text>"} lines.

Examples:
  curl -sN https://api.openai.com/v1/chat/completions ... > capture.sse
  structream parse capture.sse --schema schema.json
  structream parse capture.sse --pace 40            # watch it fill in again
  structream run -s schema.json -p "..." --record run.ndjson > /dev/null
  structream parse run.ndjson --pace recorded       # replay it as it arrived
  echo '{"title":"Hi","tags":["a"]}' | structream parse - --json

${EXIT_CODE_HELP}
`;

const SIMULATE = `Usage: structream simulate [options]

Starts the provider simulator: a local HTTP server that answers the OpenAI Chat Completions and
Responses, Anthropic Messages, Gemini and Ollama endpoints in their own wire formats, with
schema-valid answers streamed at a model's pace, and with faults on demand. Prints its URL on
stdout and one line per request on stderr; Ctrl-C stops it (exit 0).

Options:
      --port <n>            port to listen on (default: a free one)
      --host <address>      interface (default 127.0.0.1; any API key is accepted, keep it local)
      --fault <fault>       a fault for every request: refusal, truncate[-at-N], drop[-at-N],
                            stall[-at-N], malformed, invalid-json, schema-violation, error-event,
                            or an HTTP status (429, 500, ...); -once, -twice, -times-K make it
                            transient. A request picks its own with model "sim-<fault>".
      --pace <pace>         realtime (default), fast, or deltas a second
      --seed <seed>         seed of every answer
      --first-byte-delay <duration>  wait before each response starts, e.g. 300ms (default
                            300ms, ±30%; 0 for none)
      --retry-after <duration>  what a 429 asks the client to wait (default 1s)
      --diverge             each retry (same provider, model and prompt) gets a different answer
      --blocks <list>       blocks beside every answer: preamble, thinking, tools, server-tool
  -h, --help                this help

Endpoints: the --base-url of "structream run --provider <id>" (the banner prints them):
  openai-chat, openai-responses  <url>/v1      (POST /v1/chat/completions, /v1/responses)
  anthropic                      <url>/v1      (POST /v1/messages; the Anthropic SDK takes <url>)
  gemini                         <url>/v1beta  (POST /v1beta/models/<model>:streamGenerateContent;
                                                the Google Gen AI SDK takes <url>)
  ollama                         <url>         (POST /api/chat)

Examples:
  structream simulate --port 8787
  structream simulate --fault 429-once --pace fast
  structream run -s schema.json -p "..." --base-url http://127.0.0.1:8787/v1 --model sim-drop-once
  structream run -s schema.json -p "..." --provider gemini --base-url http://127.0.0.1:8787/v1beta
`;

const TEXTS: Record<Command | "main", string> = { main: MAIN, run: RUN, parse: PARSE, simulate: SIMULATE };

/**
 * The `--help` text of a command, or of the CLI as a whole.
 *
 * @example
 * ```ts
 * process.stdout.write(helpText("run"));
 * ```
 */
export function helpText(command: Command | "main"): string {
  return TEXTS[command];
}
