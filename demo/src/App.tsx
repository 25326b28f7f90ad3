import { type FormEvent, memo, type ReactNode, useEffect, useMemo, useRef, useState } from "react";
import {
  type StructuredStreamStore,
  type UseStructuredStreamResult,
  useField,
  useStructuredStream,
} from "../../src/react/index.ts";
import { createDroppableFetch, createStream, type DemoConfig, loadConfig, type StreamInput } from "./api.ts";
import { childPointer, expectedPointers, type FieldNode, fieldTree } from "./fields.ts";

type Store = StructuredStreamStore<unknown, StreamInput>;
type Answer = UseStructuredStreamResult<unknown, StreamInput>;
/**
 * How the stream on screen stands: still running, or how it ended. Every end state is shown as
 * such (never as "streaming"): a field that was open when the stream stopped is "incomplete".
 */
type Outcome = "running" | "complete" | "stopped" | "refused" | "truncated" | "failed";

const PROVIDER_LABELS: Record<string, string> = {
  "openai-chat": "OpenAI Chat",
  "openai-responses": "OpenAI Responses",
  anthropic: "Anthropic",
  gemini: "Gemini",
  ollama: "Ollama",
};

const ERROR_TITLES: Record<string, string> = {
  refusal: "The model refused to answer",
  schema_mismatch: "The answer does not match the schema",
  truncated: "The answer was cut off",
  invalid_json: "The answer is not valid JSON",
  connection_lost: "The connection was lost",
  rate_limited: "The provider is rate limiting",
  timeout: "The provider stopped answering",
  aborted: "Stopped",
  provider_error: "The provider returned an error",
};

// One droppable fetch for the page: the "Drop connection" button cuts what it has open.
const network = createDroppableFetch();

export function App() {
  const [config, setConfig] = useState<DemoConfig | undefined>();
  const [configError, setConfigError] = useState<string | undefined>();

  useEffect(() => {
    const controller = new AbortController();
    loadConfig(controller.signal).then(setConfig, (error: unknown) => {
      if (!controller.signal.aborted) setConfigError((error as Error).message);
    });
    return () => controller.abort();
  }, []);

  return (
    <div className="page">
      <header className="masthead">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            <svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true" focusable="false">
              <rect width="32" height="32" rx="8" fill="currentColor" />
              <path d="M9 11h14M9 16h10M9 21h6" stroke="white" strokeWidth="2.5" strokeLinecap="round" />
            </svg>
          </span>
          <div>
            <h1>structream</h1>
            <p className="tagline">
              Structured answers from language models, field by field, as they stream.
            </p>
          </div>
        </div>
        {config && <ModeBadge config={config} />}
      </header>
      {configError && (
        <div className="alert alert-error" role="alert">
          <strong>The demo server cannot be reached.</strong> {configError}
        </div>
      )}
      {config ? <Demo config={config} /> : !configError && <p className="loading">Loading…</p>}
      <footer className="footer">
        Server-sent events through the structream relay · resumable with <code>Last-Event-ID</code> · rendered
        with <code>useStructuredStream</code> and <code>useField</code>
      </footer>
    </div>
  );
}

function ModeBadge({ config }: { config: DemoConfig }) {
  return config.mode === "simulator" ? (
    <div className="mode" data-testid="mode">
      <span className="mode-dot mode-sim" aria-hidden="true" />
      <span>
        <strong>Simulator</strong> · no API key, nothing leaves this machine
      </span>
    </div>
  ) : (
    <div className="mode" data-testid="mode">
      <span className="mode-dot mode-live" aria-hidden="true" />
      <span>
        <strong>{PROVIDER_LABELS[config.provider] ?? config.provider}</strong> · {config.model}
      </span>
    </div>
  );
}

function Demo({ config }: { config: DemoConfig }) {
  const [schemaName, setSchemaName] = useState(config.schemas[0]?.name ?? "");
  const schema = config.schemas.find((s) => s.name === schemaName);
  const [prompt, setPrompt] = useState(schema?.prompt ?? "");
  const [provider, setProvider] = useState(config.provider);
  const [fault, setFault] = useState("none");
  // The schema of the stream on screen (the form may have moved on to another one).
  const [shown, setShown] = useState(schemaName);

  const answer = useStructuredStream<unknown, StreamInput>({
    start: (input, signal) => createStream(input, signal),
    fetch: network.fetch,
    reconnect: { baseDelayMs: 400 },
  });

  const running =
    answer.status === "connecting" || answer.status === "streaming" || answer.status === "validating";
  const shownSchema = config.schemas.find((s) => s.name === shown);
  const tree = useMemo(() => (shownSchema ? fieldTree(shownSchema.schema) : undefined), [shownSchema]);
  const expected = useMemo(() => (tree ? expectedPointers(tree) : []), [tree]);
  const outcome = outcomeOf(answer);
  // Each press of "Stream the answer" is a run: the page's own clock and notices start from it.
  const [run, setRun] = useState<Run>({ number: 0, pressedAt: 0 });
  const answerCard = useRef<HTMLElement>(null);
  useScrollIntoViewOnStart(answerCard, answer.status, run.number);

  const chooseSchema = (name: string) => {
    const next = config.schemas.find((s) => s.name === name);
    // Keep what the person wrote; replace only the previous example.
    if (next && (prompt.trim() === "" || prompt === schema?.prompt)) setPrompt(next.prompt);
    setSchemaName(name);
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setShown(schemaName);
    setRun((previous) => ({ number: previous.number + 1, pressedAt: Date.now() }));
    const input: StreamInput = { prompt, schema: schemaName };
    if (config.mode === "simulator") {
      input.provider = provider;
      input.fault = fault;
    }
    answer.start(input);
  };

  return (
    <main className="layout">
      <section className="card form-card" aria-labelledby="ask-title">
        <h2 id="ask-title" className="card-title">
          Ask
        </h2>
        <form onSubmit={submit}>
          <fieldset className="schemas">
            <legend>Answer schema</legend>
            {config.schemas.map((s) => (
              <label key={s.name} className={`schema-option${s.name === schemaName ? " selected" : ""}`}>
                <input
                  type="radio"
                  name="schema"
                  value={s.name}
                  checked={s.name === schemaName}
                  onChange={() => chooseSchema(s.name)}
                />
                <span className="schema-name">{s.title}</span>
                {s.description && <span className="schema-description">{withCode(s.description)}</span>}
              </label>
            ))}
            {config.schemas.length === 0 && <p className="muted">No example schemas were found.</p>}
          </fieldset>

          <label className="field-label" htmlFor="prompt">
            Prompt
          </label>
          <textarea
            id="prompt"
            name="prompt"
            rows={3}
            value={prompt}
            onChange={(e) => setPrompt(e.target.value)}
            placeholder="What should the model answer?"
          />

          {config.mode === "simulator" && (
            <div className="row">
              <div className="control">
                <label className="field-label" htmlFor="provider">
                  Wire format
                </label>
                <select id="provider" value={provider} onChange={(e) => setProvider(e.target.value)}>
                  {config.providers.map((p) => (
                    <option key={p} value={p}>
                      {PROVIDER_LABELS[p] ?? p}
                    </option>
                  ))}
                </select>
              </div>
              <div className="control">
                <label className="field-label" htmlFor="fault">
                  Simulated fault
                </label>
                <select id="fault" value={fault} onChange={(e) => setFault(e.target.value)}>
                  {config.faults.map((f) => (
                    <option key={f.id} value={f.id}>
                      {f.label}
                    </option>
                  ))}
                </select>
              </div>
            </div>
          )}

          <button type="submit" className="button primary wide" disabled={!schema || prompt.trim() === ""}>
            {running ? "Restart" : "Stream the answer"}
          </button>
          <div className="actions">
            {answer.status === "error" ? (
              <button type="button" className="button" onClick={() => answer.retry()}>
                Retry
              </button>
            ) : (
              <button
                type="button"
                className="button"
                // Cancels the model call on the server too, not only this page's reading of it.
                onClick={() => void answer.cancel("Stopped from the page.")}
                disabled={!running}
              >
                Stop
              </button>
            )}
            <button
              type="button"
              className="button"
              onClick={() => network.drop()}
              disabled={!running || answer.connection !== "open"}
              title="Cut the connection to the relay: the client reconnects and resumes with Last-Event-ID"
            >
              Drop connection
            </button>
          </div>
        </form>

        <StatusPanel answer={answer} run={run} />
      </section>

      <section className="card answer-card" aria-labelledby="answer-title" ref={answerCard}>
        <div className="answer-head">
          <h2 id="answer-title" className="card-title">
            {shownSchema?.title ?? "Answer"}
          </h2>
          <StatusPill status={answer.status} outcome={outcome} connection={answer.connection} />
        </div>
        <ProgressBar answer={answer} expected={expected} outcome={outcome} />
        <EndAlert error={answer.error} />
        {answer.status === "idle" ? (
          <p className="empty">
            Choose a schema, write a prompt and press <strong>Stream the answer</strong>. Each field appears
            as the model writes it.
          </p>
        ) : (
          tree && (
            <div className="fields" data-testid="fields">
              <FieldList store={answer.store} nodes={tree.children ?? []} pointer="" outcome={outcome} />
            </div>
          )
        )}
        <ReasoningPanel reasoning={answer.reasoning || answer.stats?.server?.reasoning} />
        <JsonPanel answer={answer} />
      </section>
      <Toast answer={answer} run={run.number} />
    </main>
  );
}

/** Text with `backticks` shown as code. */
function withCode(text: string) {
  return text.split(/(`[^`]+`)/).map((part, index) =>
    part.startsWith("`") && part.endsWith("`") && part.length > 2 ? (
      // biome-ignore lint/suspicious/noArrayIndexKey: a fixed split of a constant string.
      <code key={index}>{part.slice(1, -1)}</code>
    ) : (
      part
    ),
  );
}

/** One press of "Stream the answer": its number, and `Date.now()` at the press. */
interface Run {
  number: number;
  pressedAt: number;
}

function outcomeOf(answer: Answer): Outcome {
  if (answer.status === "complete") return "complete";
  if (answer.status !== "error") return "running";
  switch (answer.error?.code) {
    case "aborted":
      return "stopped";
    case "refusal":
      return "refused";
    case "truncated":
      return "truncated";
    default:
      return "failed";
  }
}

/**
 * Brings the answer into view when its first byte arrives, once per run: on a phone the answer
 * sits below the form, out of sight of the button just pressed. Nothing moves when the answer is
 * already in view (side by side on a wide screen). A reader who asked for reduced motion gets a
 * jump instead of a smooth scroll.
 */
function useScrollIntoViewOnStart(target: { current: HTMLElement | null }, status: string, run: number) {
  const done = useRef(0);
  useEffect(() => {
    if (status !== "streaming" || run === 0 || done.current === run) return;
    done.current = run;
    const element = target.current;
    if (element === null) return;
    const { top } = element.getBoundingClientRect();
    if (top >= 0 && top < window.innerHeight / 2) return;
    const reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    element.scrollIntoView({ behavior: reduce ? "auto" : "smooth", block: "start" });
  }, [status, run, target]);
}

// ---- status --------------------------------------------------------------------------------

const OUTCOME_LABELS: Record<Outcome, string> = {
  running: "",
  complete: "complete",
  stopped: "stopped",
  refused: "refused",
  truncated: "truncated",
  failed: "error",
};

function StatusPill({
  status,
  outcome,
  connection,
}: {
  status: string;
  outcome: Outcome;
  connection: string;
}) {
  const reconnecting = connection === "reconnecting" && outcome === "running";
  const label = outcome === "running" ? status : OUTCOME_LABELS[outcome];
  return (
    <div className="pills">
      {reconnecting && <span className="pill pill-reconnecting">reconnecting…</span>}
      <output className={`pill pill-${label}`} data-testid="status" data-status={status} aria-live="polite">
        <span className="pill-dot" aria-hidden="true" />
        {label}
      </output>
    </div>
  );
}

/**
 * The bar follows the stream's own progress (which counts array items as they come); the label
 * counts the fields the schema expects, so its total is known before the first byte and never
 * changes mid-stream.
 */
function ProgressBar({
  answer,
  expected,
  outcome,
}: {
  answer: Answer;
  expected: string[];
  outcome: Outcome;
}) {
  const percent = answer.progress?.percent ?? 0;
  const total = expected.length;
  const completed =
    outcome === "complete"
      ? total
      : answer.status === "idle"
        ? 0
        : expected.filter((pointer) => answer.stateOf(pointer) === "complete").length;
  const tone =
    outcome === "running" || outcome === "complete"
      ? ""
      : outcome === "stopped"
        ? " progress-stopped"
        : " progress-error";
  return (
    <div className="progress-wrap">
      <div
        className={`progress${tone}`}
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        aria-label="Answer progress"
        data-testid="progress"
      >
        <div className="progress-fill" style={{ width: `${percent}%` }} />
      </div>
      <span className="progress-label" data-testid="progress-label">
        {total > 0 ? `${completed} of ${total} fields` : `${Math.round(percent)}%`}
      </span>
    </div>
  );
}

/** How the stream ended, when it did not complete: shown once, where the answer starts. */
function EndAlert({ error }: { error: Answer["error"] }) {
  if (error === undefined) return null;
  return (
    <div
      className={`alert ${error.code === "aborted" ? "alert-muted" : "alert-error"}`}
      role="alert"
      data-testid="error"
    >
      <strong>{ERROR_TITLES[error.code] ?? "The stream failed"}</strong>
      <span className="error-code">{error.code}</span>
      <p>{error.message}</p>
    </div>
  );
}

// ---- notices -------------------------------------------------------------------------------

/** What the one notice on screen says: a connection drop, or the provider's retry. */
type Notice =
  | { kind: "connection"; key: number; phase: "lost" | "resumed"; after: string }
  | {
      kind: "retry";
      key: number;
      phase: "waiting" | "retried";
      attempt: number;
      delayMs: number;
      code: string;
      message: string;
      /** SSE events the page had when the retry was announced: the next one is the new attempt's. */
      events: number;
      /** The retry's answer contradicted what was shown, and replaced it (a `rewind`). */
      replaced?: boolean;
    };

/** How long a notice that has settled ("resumed", "retried") stays before it fades. */
const SETTLED_NOTICE_MS = 6_000;

function seconds(ms: number): string {
  const s = ms / 1000;
  return `${s >= 10 || Number.isInteger(s) ? Math.round(s) : s.toFixed(1)} s`;
}

/**
 * One notice at a time, over the page (it never pushes the answer down): each drop or retry
 * replaces the notice before it, and the notice changes in place as what it announced happens
 * ("reconnecting…" → "resumed", "retrying in 2 s…" → "retried").
 */
function Toast({ answer, run }: { answer: Answer; run: number }) {
  const [notice, setNotice] = useState<Notice | undefined>();
  // The version of the notice that faded or was dismissed: any change to the notice shows it again.
  const [hiddenVersion, setHiddenVersion] = useState<string | undefined>();
  const previousConnection = useRef(answer.connection);
  const seenRetries = useRef(0);
  const keys = useRef(0);

  // A new run: the previous run's notice is not news any more.
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset on each new run only.
  useEffect(() => {
    setNotice(undefined);
    seenRetries.current = 0;
  }, [run]);

  const { connection, retries, stats, status } = answer;
  const events = stats?.events ?? 0;
  const lastEventId = stats?.lastEventId;
  // biome-ignore lint/correctness/useExhaustiveDependencies: reacts to the connection's changes only.
  useEffect(() => {
    const before = previousConnection.current;
    previousConnection.current = connection;
    if (connection === "reconnecting" && before !== "reconnecting") {
      setNotice({ kind: "connection", key: ++keys.current, phase: "lost", after: lastEventId ?? "0" });
    } else if (connection === "open" && before === "reconnecting") {
      setNotice((n) => (n?.kind === "connection" ? { ...n, phase: "resumed" } : n));
    }
  }, [connection]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: reacts to new retries only.
  useEffect(() => {
    if (retries.length <= seenRetries.current) {
      seenRetries.current = retries.length;
      return;
    }
    seenRetries.current = retries.length;
    const retry = retries[retries.length - 1]!;
    setNotice({
      kind: "retry",
      key: ++keys.current,
      phase: "waiting",
      attempt: retry.attempt,
      delayMs: retry.delayMs,
      code: retry.error.code,
      message: retry.error.message,
      events,
    });
  }, [retries]);

  // A retry whose answer differs withdraws what the page showed (a rewind): say so, on the notice
  // of that retry (each retry's own `replaced`, so a second rewind is told too).
  const replaced = retries[retries.length - 1]?.replaced;
  useEffect(() => {
    if (replaced !== undefined)
      setNotice((n) => (n?.kind === "retry" ? { ...n, phase: "retried", replaced: true } : n));
  }, [replaced]);

  // The retry happened when the server-side stream said anything after announcing it.
  useEffect(() => {
    if (notice?.kind === "retry" && notice.phase === "waiting") {
      if (events > notice.events) setNotice({ ...notice, phase: "retried" });
      else if (status === "error" || status === "complete") setNotice(undefined);
    }
  }, [notice, events, status]);

  // A notice whose news is over (resumed, retried, or the stream ended) fades after a while.
  const version =
    notice === undefined
      ? undefined
      : `${notice.key}:${notice.phase}:${notice.kind === "retry" && notice.replaced === true}`;
  const settled =
    notice !== undefined &&
    (notice.phase === "resumed" || notice.phase === "retried" || !RUNNING.has(status));
  useEffect(() => {
    if (!settled || version === undefined) return;
    const timer = setTimeout(() => setHiddenVersion(version), SETTLED_NOTICE_MS);
    return () => clearTimeout(timer);
  }, [settled, version]);
  const hidden = version === undefined || version === hiddenVersion;

  let body: ReactNode = null;
  if (notice !== undefined && !hidden) {
    const text =
      notice.kind === "connection" ? (
        notice.phase === "lost" ? (
          <span>
            <strong>Connection to the relay lost</strong> after event {notice.after}: reconnecting…
          </span>
        ) : (
          <span>
            <strong>Reconnected</strong> after losing the connection at event {notice.after}: resumed with
            Last-Event-ID, nothing lost, nothing repeated.
          </span>
        )
      ) : (
        <span>
          <strong>
            The provider failed;{" "}
            {notice.phase === "waiting"
              ? `retrying in ${seconds(notice.delayMs)}…`
              : notice.replaced
                ? `retried (attempt ${notice.attempt + 1}): the retry's answer replaced the earlier one.`
                : `retried (attempt ${notice.attempt + 1}).`}
          </strong>{" "}
          {notice.message} <code className="notice-code">{notice.code}</code>
        </span>
      );
    body = (
      <div
        key={notice.key}
        className={`notice notice-${notice.kind}`}
        data-testid={`${notice.kind}-notice`}
        data-phase={notice.phase}
        data-replaced={notice.kind === "retry" && notice.replaced ? "true" : undefined}
        data-after={notice.kind === "connection" ? notice.after : undefined}
      >
        <span className="notice-icon" aria-hidden="true">
          {notice.kind === "connection" ? "⇄" : "↻"}
        </span>
        {text}
        <button
          type="button"
          className="notice-close"
          aria-label="Dismiss"
          onClick={() => setHiddenVersion(version)}
        >
          ×
        </button>
      </div>
    );
  }
  return (
    <div className="toast" role="status">
      {body}
    </div>
  );
}

// ---- statistics ----------------------------------------------------------------------------

const RUNNING = new Set(["connecting", "streaming", "validating"]);

/**
 * The figures of the run, live: the page's own clock from the press of the button (times to first
 * byte and first field as they happen, the duration frozen when the stream ends), the relay's
 * counters as events arrive, and what only the server knows (deltas, tokens) once it says so.
 */
function StatusPanel({ answer, run }: { answer: Answer; run: Run }) {
  const stats = answer.stats;
  const server = stats?.server;
  const running = RUNNING.has(answer.status);
  const [now, setNow] = useState(() => Date.now());
  const marks = useRef<{ run: number; firstByte?: number; end?: number }>({ run: 0 });
  if (marks.current.run !== run.number) marks.current = { run: run.number };
  // Read while rendering: the first render that shows the stream streaming (or ended) is when
  // the page knew, whatever the effects' timing.
  if (run.number > 0) {
    const at = Date.now();
    if (
      marks.current.firstByte === undefined &&
      (answer.status === "streaming" || answer.status === "validating" || answer.status === "complete")
    )
      marks.current.firstByte = at;
    if (marks.current.end === undefined && (answer.status === "complete" || answer.status === "error"))
      marks.current.end = at;
  }
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 100);
    return () => clearInterval(timer);
  }, [running]);

  const since = (at: number | undefined) =>
    at === undefined || run.number === 0 ? undefined : at - run.pressedAt;
  const firstField =
    stats?.timeToFirstFieldMs === undefined ? undefined : stats.startedAt + stats.timeToFirstFieldMs;
  // The page sees the first byte and the end at a render (once a frame); the client timed the first
  // field exactly. A fast model can do all three within one frame: keep them in their true order.
  const firstByte =
    marks.current.firstByte !== undefined && firstField !== undefined
      ? Math.min(marks.current.firstByte, firstField)
      : marks.current.firstByte;
  const end =
    marks.current.end !== undefined && firstField !== undefined
      ? Math.max(marks.current.end, firstField)
      : marks.current.end;
  const elapsed = run.number === 0 ? undefined : (end ?? Math.max(now, run.pressedAt)) - run.pressedAt;
  const ms = (value: number | undefined) =>
    value === undefined ? "—" : `${Math.max(0, Math.round(value)).toLocaleString("en")} ms`;
  const count = (value: number | undefined) => (value === undefined ? "—" : value.toLocaleString("en"));
  // What only the server knows arrives with its `complete` event.
  const atEnd = (value: string | undefined) => value ?? (running ? "at the end" : "—");
  const usage = server?.usage;
  const rows: [string, string, string?][] = [
    [
      "Time to first byte",
      ms(since(firstByte)),
      "From pressing the button to the model's first byte on this page",
    ],
    ["Time to first field", ms(since(firstField)), "From pressing the button to the first complete field"],
    ["Duration", ms(elapsed), "From pressing the button to the end of the stream"],
    ["Deltas", atEnd(server && count(server.deltas)), "Text deltas the model sent"],
    ["Deltas per second", atEnd(server?.deltasPerSecond.toLocaleString("en"))],
    ["Tokens in / out", atEnd(usage && `${count(usage.inputTokens)} / ${count(usage.outputTokens)}`)],
    [
      "Provider retries",
      count(server?.retries ?? (answer.status === "idle" ? undefined : answer.retries.length)),
    ],
    ["Relay connections", count(stats?.connections), "1, plus one per reconnection"],
    ["SSE events", count(stats?.events)],
    ["SSE bytes", count(stats?.bytes)],
  ];
  return (
    <section className="stats" aria-labelledby="stats-title">
      <h3 id="stats-title" className="section-title">
        Statistics
      </h3>
      <dl className="stats-grid" data-testid="stats">
        {rows.map(([label, value, hint]) => (
          <div key={label} className="stat" title={hint}>
            <dt>{label}</dt>
            <dd className={value === "at the end" ? "stat-later" : undefined}>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

/**
 * The model's reasoning (thinking, reasoning summaries, thoughts), collapsed: it is never the
 * answer. It grows live from the relay's `reasoning` events (`answer.reasoning`); a relay that does
 * not send them still gives it in the final statistics.
 */
function ReasoningPanel({ reasoning }: { reasoning: string | undefined }) {
  if (reasoning === undefined || reasoning === "") return null;
  return (
    <details className="reasoning" data-testid="reasoning">
      <summary>
        <span className="section-title">Reasoning</span>
        <span className="reasoning-size">{reasoning.length.toLocaleString("en")} characters</span>
      </summary>
      <p>{reasoning}</p>
    </details>
  );
}

function JsonPanel({ answer }: { answer: Answer }) {
  if (answer.value === undefined) return null;
  const final = answer.status === "complete";
  const ended = answer.status === "error";
  return (
    <div className="json">
      <div className="json-head">
        <h3 className="section-title">{final ? "Final JSON" : ended ? "JSON received" : "JSON so far"}</h3>
        <span className={`json-tag${final ? " json-final" : ended ? " json-partial" : ""}`}>
          {final ? "validated" : ended ? "partial" : "streaming"}
        </span>
      </div>
      <section
        className="json-scroll"
        aria-label="The answer as JSON"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (WCAG 2.1.1).
        tabIndex={0}
      >
        <pre data-testid="json" data-final={final ? "true" : "false"}>
          {JSON.stringify(answer.value, null, 2)}
        </pre>
      </section>
    </div>
  );
}

// ---- fields --------------------------------------------------------------------------------

interface FieldProps {
  store: Store;
  node: FieldNode;
  pointer: string;
  outcome: Outcome;
}

/**
 * The badge of a field: its state while the stream runs; once it ended, what became of it. A
 * field still open when the stream stopped or failed is "incomplete", never "streaming".
 */
function badgeOf(state: string, value: unknown, outcome: Outcome): string {
  if (outcome === "running") return state;
  if (value === undefined) return outcome === "complete" ? "omitted" : "missing";
  return state === "complete" || outcome === "complete" ? "complete" : "incomplete";
}

const FieldList = memo(function FieldList({
  store,
  nodes,
  pointer,
  outcome,
}: {
  store: Store;
  nodes: FieldNode[];
  pointer: string;
  outcome: Outcome;
}) {
  return (
    <ul className="field-list">
      {nodes.map((node) => (
        <Field
          key={node.key}
          store={store}
          node={node}
          pointer={childPointer(pointer, node.key)}
          outcome={outcome}
        />
      ))}
    </ul>
  );
});

/** One field: re-renders only when its own subtree (or its state) changes. */
const Field = memo(function Field({ store, node, pointer, outcome }: FieldProps) {
  const field = useField(store, pointer);
  const badge = badgeOf(field.state, field.value, outcome);
  return (
    <li className={`field field-${node.kind}`} data-pointer={pointer} data-state={badge}>
      <div className="field-head">
        <span className="field-name" title={node.description}>
          {node.label}
        </span>
        <Badge state={badge} />
      </div>
      <FieldValue
        store={store}
        node={node}
        pointer={pointer}
        outcome={outcome}
        value={field.value}
        state={badge}
      />
    </li>
  );
});

function FieldValue({
  store,
  node,
  pointer,
  outcome,
  value,
  state,
}: FieldProps & { value: unknown; state: string }) {
  if (node.kind === "object" && node.children) {
    return value === undefined ? (
      <div className="placeholder" />
    ) : (
      <FieldList store={store} nodes={node.children} pointer={pointer} outcome={outcome} />
    );
  }
  if (node.kind === "array" && node.items) {
    const items = Array.isArray(value) ? value : [];
    if (value === undefined) return <div className="placeholder" />;
    return (
      <ol className="items">
        {items.map((_, index) => (
          <Item
            // biome-ignore lint/suspicious/noArrayIndexKey: items only ever append; the index is their identity.
            key={index}
            store={store}
            node={node.items!}
            pointer={childPointer(pointer, index)}
            outcome={outcome}
          />
        ))}
        {state === "streaming" && items.length === 0 && <li className="item item-waiting">…</li>}
      </ol>
    );
  }
  return <Leaf node={node} value={value} streaming={state === "streaming"} />;
}

const Item = memo(function Item({ store, node, pointer, outcome }: FieldProps) {
  const field = useField(store, pointer);
  const state = badgeOf(field.state, field.value, outcome);
  return (
    <li className={`item item-${node.kind}`} data-pointer={pointer} data-state={state}>
      <span className={`item-marker state-${state}`} aria-hidden="true" />
      <div className="item-body">
        {node.kind === "object" && node.children ? (
          field.value === undefined ? null : (
            <FieldList store={store} nodes={node.children} pointer={pointer} outcome={outcome} />
          )
        ) : (
          <Leaf node={node} value={field.value} streaming={state === "streaming"} />
        )}
      </div>
    </li>
  );
});

function Leaf({ node, value, streaming }: { node: FieldNode; value: unknown; streaming: boolean }) {
  if (value === undefined) return <div className="placeholder" />;
  let text: string;
  let className = "value";
  if (typeof value === "boolean") {
    text = value ? "Yes" : "No";
    className += " value-boolean";
  } else if (typeof value === "number") {
    text = value.toLocaleString("en");
    className += " value-number";
  } else if (typeof value === "string") {
    text = value;
    if (node.kind === "enum") className += " value-enum";
  } else {
    text = JSON.stringify(value);
    className += " value-json";
  }
  return (
    <div className={className} data-testid="value">
      {text}
      {streaming && <span className="caret" aria-hidden="true" />}
    </div>
  );
}

const BADGE_LABELS: Record<string, string> = {
  pending: "pending",
  streaming: "streaming",
  complete: "complete",
  incomplete: "incomplete",
  omitted: "omitted",
  missing: "not received",
};

function Badge({ state }: { state: string }) {
  return (
    <span className={`badge badge-${state}`} data-testid="badge">
      {state === "complete" ? (
        <span className="badge-check" aria-hidden="true">
          ✓
        </span>
      ) : (
        <span className="badge-dot" aria-hidden="true" />
      )}
      {BADGE_LABELS[state] ?? state}
    </span>
  );
}
