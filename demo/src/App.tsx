import { type FormEvent, memo, useEffect, useMemo, useRef, useState } from "react";
import {
  type StructuredStreamStore,
  type UseStructuredStreamResult,
  useField,
  useStructuredStream,
} from "../../src/react/index.ts";
import { createDroppableFetch, createStream, type DemoConfig, loadConfig, type StreamInput } from "./api.ts";
import { childPointer, type FieldNode, fieldTree } from "./fields.ts";

type Store = StructuredStreamStore<unknown, StreamInput>;
type Answer = UseStructuredStreamResult<unknown, StreamInput>;
/** How the stream ended, for fields that never arrived. */
type Outcome = "running" | "complete" | "error";

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

  const chooseSchema = (name: string) => {
    const next = config.schemas.find((s) => s.name === name);
    // Keep what the person wrote; replace only the previous example.
    if (next && (prompt.trim() === "" || prompt === schema?.prompt)) setPrompt(next.prompt);
    setSchemaName(name);
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setShown(schemaName);
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
                onClick={() => answer.abort("Stopped from the page.")}
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

        <StatusPanel answer={answer} />
      </section>

      <section className="card answer-card" aria-labelledby="answer-title">
        <div className="answer-head">
          <h2 id="answer-title" className="card-title">
            {shownSchema?.title ?? "Answer"}
          </h2>
          <StatusPill status={answer.status} connection={answer.connection} />
        </div>
        <ProgressBar answer={answer} />
        <Notices answer={answer} />
        {answer.status === "idle" ? (
          <p className="empty">
            Choose a schema, write a prompt and press <strong>Stream the answer</strong>. Each field appears
            as the model writes it.
          </p>
        ) : (
          tree && (
            <div className="fields" data-testid="fields">
              <FieldList
                store={answer.store}
                nodes={tree.children ?? []}
                pointer=""
                outcome={outcomeOf(answer)}
              />
            </div>
          )
        )}
        <JsonPanel answer={answer} />
      </section>
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

function outcomeOf(answer: Answer): Outcome {
  return answer.status === "complete" ? "complete" : answer.status === "error" ? "error" : "running";
}

// ---- status --------------------------------------------------------------------------------

function StatusPill({ status, connection }: { status: string; connection: string }) {
  const reconnecting = connection === "reconnecting";
  return (
    <div className="pills">
      {reconnecting && <span className="pill pill-reconnecting">reconnecting…</span>}
      <output className={`pill pill-${status}`} data-testid="status" aria-live="polite">
        <span className="pill-dot" aria-hidden="true" />
        {status}
      </output>
    </div>
  );
}

function ProgressBar({ answer }: { answer: Answer }) {
  const percent = answer.progress?.percent ?? 0;
  const total = answer.progress?.total ?? 0;
  const completed = answer.progress?.completed ?? 0;
  return (
    <div className="progress-wrap">
      <div
        className={`progress${answer.status === "error" ? " progress-error" : ""}`}
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        aria-label="Answer progress"
        data-testid="progress"
      >
        <div className="progress-fill" style={{ width: `${percent}%` }} />
      </div>
      <span className="progress-label">
        {total > 0 ? `${completed} of ${total} fields · ${Math.round(percent)}%` : `${Math.round(percent)}%`}
      </span>
    </div>
  );
}

function Notices({ answer }: { answer: Answer }) {
  const [drops, setDrops] = useState<{ at: number; text: string }[]>([]);
  const previous = useRef(answer.connection);
  // Where the client was when the connection broke: what it resumes from.
  const resumeFrom = useRef<string | undefined>(undefined);
  const lastEventId = answer.stats?.lastEventId;
  const startedAt = answer.stats?.startedAt;

  // A new stream: forget the previous one's notices.
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset on each new stream only.
  useEffect(() => {
    setDrops([]);
  }, [startedAt]);

  useEffect(() => {
    const before = previous.current;
    previous.current = answer.connection;
    if (answer.connection === "reconnecting" && before !== "reconnecting") {
      resumeFrom.current = lastEventId ?? "0";
      setDrops((d) => [
        ...d,
        {
          at: Date.now(),
          text: `Connection to the relay lost after event ${resumeFrom.current}: reconnecting…`,
        },
      ]);
    } else if (answer.connection === "open" && before === "reconnecting") {
      setDrops((d) => [
        ...d,
        {
          at: Date.now(),
          text: `Resumed after event ${resumeFrom.current ?? "0"} with Last-Event-ID: nothing lost, nothing repeated.`,
        },
      ]);
    }
  }, [answer.connection, lastEventId]);

  const error = answer.error;
  if (answer.retries.length === 0 && drops.length === 0 && !error) return null;
  return (
    <div className="notices">
      {answer.retries.map((retry) => (
        <div
          key={`retry-${retry.attempt}-${retry.at}`}
          className="notice notice-retry"
          data-testid="retry-notice"
        >
          <span className="notice-icon" aria-hidden="true">
            ↻
          </span>
          <span>
            <strong>
              The provider failed; retry {retry.attempt} in {Math.round(retry.delayMs)} ms.
            </strong>{" "}
            {retry.error.message} <code className="notice-code">{retry.error.code}</code>
          </span>
        </div>
      ))}
      {drops.map((drop) => (
        <div
          key={`${drop.at}-${drop.text}`}
          className="notice notice-connection"
          data-testid="connection-notice"
        >
          <span className="notice-icon" aria-hidden="true">
            ⇄
          </span>
          <span>{drop.text}</span>
        </div>
      ))}
      {error && (
        <div
          className={`alert ${error.code === "aborted" ? "alert-muted" : "alert-error"}`}
          role="alert"
          data-testid="error"
        >
          <strong>{ERROR_TITLES[error.code] ?? "The stream failed"}</strong>
          <span className="error-code">{error.code}</span>
          <p>{error.message}</p>
        </div>
      )}
    </div>
  );
}

function StatusPanel({ answer }: { answer: Answer }) {
  const stats = answer.stats;
  const server = stats?.server;
  const [now, setNow] = useState(() => Date.now());
  const running =
    answer.status === "connecting" || answer.status === "streaming" || answer.status === "validating";
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 100);
    return () => clearInterval(timer);
  }, [running]);

  // The server's duration once complete; else the page's own clock (frozen when the stream ends).
  const elapsed = server?.durationMs ?? (stats ? Math.max(0, now - stats.startedAt) : undefined);
  const ms = (value: number | undefined) =>
    value === undefined ? "—" : `${Math.round(value).toLocaleString("en")} ms`;
  const count = (value: number | undefined) => (value === undefined ? "—" : value.toLocaleString("en"));
  const usage = server?.usage;
  const rows: [string, string, string?][] = [
    [
      "Time to first byte",
      ms(server?.timeToFirstByteMs),
      "From the start of the stream to the model's first byte",
    ],
    ["Time to first field", ms(server?.timeToFirstFieldMs ?? stats?.timeToFirstFieldMs)],
    ["Duration", ms(elapsed)],
    ["Deltas", count(server?.deltas), "Text deltas the model sent"],
    ["Deltas per second", server ? server.deltasPerSecond.toLocaleString("en") : "—"],
    ["Tokens in / out", usage ? `${count(usage.inputTokens)} / ${count(usage.outputTokens)}` : "—"],
    ["Provider retries", count(server?.retries ?? answer.retries.length)],
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
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function JsonPanel({ answer }: { answer: Answer }) {
  if (answer.value === undefined) return null;
  const final = answer.status === "complete";
  return (
    <div className="json">
      <div className="json-head">
        <h3 className="section-title">{final ? "Final JSON" : "JSON so far"}</h3>
        <span className={`json-tag${final ? " json-final" : ""}`}>
          {final ? "validated" : answer.status === "error" ? "partial" : "streaming"}
        </span>
      </div>
      <pre data-testid="json" data-final={final ? "true" : "false"}>
        {JSON.stringify(answer.value, null, 2)}
      </pre>
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
  const missing = field.value === undefined && outcome !== "running";
  const badge = missing ? (outcome === "complete" ? "omitted" : "missing") : field.state;
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
        state={field.state}
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
  return (
    <li className={`item item-${node.kind}`} data-pointer={pointer} data-state={field.state}>
      <span className={`item-marker state-${field.state}`} aria-hidden="true" />
      <div className="item-body">
        {node.kind === "object" && node.children ? (
          field.value === undefined ? null : (
            <FieldList store={store} nodes={node.children} pointer={pointer} outcome={outcome} />
          )
        ) : (
          <Leaf node={node} value={field.value} streaming={field.state === "streaming"} />
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

function Badge({ state }: { state: string }) {
  const labels: Record<string, string> = {
    pending: "pending",
    streaming: "streaming",
    complete: "complete",
    omitted: "omitted",
    missing: "not received",
  };
  return (
    <span className={`badge badge-${state}`} data-testid="badge">
      {state === "complete" ? (
        <span className="badge-check" aria-hidden="true">
          ✓
        </span>
      ) : (
        <span className="badge-dot" aria-hidden="true" />
      )}
      {labels[state] ?? state}
    </span>
  );
}
