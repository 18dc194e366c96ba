/**
 * @module generation
 * `POST /v1/chat/completions` and `POST /v1/completions` for one instance:
 * validate as vLLM does, plan the choices, then either stream the engine's
 * events as SSE through a pull-based ReadableStream (so a client that stops
 * reading or leaves stops the generation) or collect them into one JSON.
 */
import { runEngine, untilAborted, type EngineEvent } from "./engine";
import { buildResponse, responseId, StreamFormatter, type ResponseContext } from "./formats";
import type { Generation, SimInstance } from "./instance";
import { planChoices, type ChoicePlan } from "./plan";
import { parseChatRequest, parseCompletionRequest, type GenerationRequest } from "./request-schema";
import { errorResponse, parseJson } from "./responses";

/** What a generation needs from the simulator around it. */
export interface GenerationEnv {
  models: readonly string[];
  maxModelLen: number;
  /** Makes unseeded sampled requests differ from one another. */
  nonce(): string;
}

const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" };
/** Status for a client that already left: nobody reads it (nginx's "client closed request"). */
const CLIENT_GONE_STATUS = 499;
const encoder = new TextEncoder();
/** Largest body kept in `last_request`, in characters. */
const LAST_REQUEST_MAX_CHARS = 64 * 1024;

/** Handles one generation request; gates (auth, cold start, fail_status) already passed. */
export async function handleGeneration(request: Request, inst: SimInstance, kind: "chat" | "completion", env: GenerationEnv): Promise<Response> {
  const reject = (status: number, message: string, param: string | null = null) => {
    inst.counters.rejected_total++;
    return errorResponse(status, message, param);
  };
  const text = await request.text();
  const body = parseJson(text);
  inst.counters.last_request = {
    path: new URL(request.url).pathname,
    // Big prompts are not kept: a thousand instances must not hold a thousand of them.
    body: text.length <= LAST_REQUEST_MAX_CHARS ? (body ?? null) : null,
    body_chars: text.length,
    header_names: [...request.headers.keys()],
  };
  if (body === undefined) return reject(400, "The request body is not valid JSON.");
  const parsed = kind === "chat" ? parseChatRequest(body) : parseCompletionRequest(body);
  if (!parsed.ok) return reject(400, parsed.message);
  const req = parsed.request;
  const model = req.model ?? env.models[0] ?? "";
  if (!env.models.includes(model)) return reject(404, `The model \`${model}\` does not exist.`, "model");
  const maxTokens = resolveMaxTokens(req, env.maxModelLen);
  if (typeof maxTokens === "string") return reject(400, maxTokens);

  const gen = inst.accept(model, req.promptTokens);
  // One controller stops every wait of this generation, whoever notices the client left.
  const stop = new AbortController();
  const onClientGone = () => {
    inst.finish(gen, "aborted");
    stop.abort(request.signal.reason);
  };
  if (request.signal.aborted) onClientGone();
  else request.signal.addEventListener("abort", onClientGone, { once: true });

  if (inst.config.hang) {
    inst.markHung(gen);
    await untilAborted(stop.signal);
    return new Response(null, { status: CLIENT_GONE_STATUS });
  }
  const plans = planChoices(req, model, maxTokens, env.nonce(), inst.config.min_tokens);
  const ctx: ResponseContext = {
    kind,
    id: responseId(kind),
    created: Math.floor(Date.now() / 1000),
    model,
    logprobs: req.logprobs,
    includeUsage: req.includeUsage,
    promptTokens: req.promptTokens,
  };
  const events = runEngine(inst, gen, plans, stop.signal);
  return req.stream
    ? streamResponse(inst, gen, events, new StreamFormatter(ctx, plans), stop)
    : collect(inst, gen, events, ctx, plans, stop.signal);
}

/** vLLM's default and limit: the completion may use whatever the prompt leaves of the window. */
function resolveMaxTokens(req: GenerationRequest, maxModelLen: number): number | string {
  const p = req.promptTokens;
  if (req.maxTokens === null) {
    if (p < maxModelLen) return maxModelLen - p;
    return `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${p} tokens in the messages, Please reduce the length of the messages.`;
  }
  const m = req.maxTokens;
  if (p + m <= maxModelLen) return m;
  return (
    `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${p + m} tokens ` +
    `(${p} in the messages, ${m} in the completion). Please reduce the length of the messages or completion.`
  );
}

/** One engine event per pull: nothing is generated ahead of what the client reads. */
function streamResponse(
  inst: SimInstance,
  gen: Generation,
  events: AsyncGenerator<EngineEvent, void, undefined>,
  fmt: StreamFormatter,
  stop: AbortController,
): Response {
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          // Loop until a frame goes out: a pull that enqueues nothing is not called again.
          for (;;) {
            const next = await events.next();
            if (gen.state === "done") return; // cancelled while we waited
            if (next.done) {
              controller.enqueue(encoder.encode(fmt.end(gen.generated)));
              controller.close();
              inst.finish(gen, "completed");
              return;
            }
            const ev = next.value;
            if (ev.type === "drop") {
              inst.finish(gen, "errored");
              controller.error(new Error("simulated connection drop (drop_after_tokens)"));
              return;
            }
            if (ev.type === "error") {
              controller.enqueue(encoder.encode(fmt.error("Simulated engine failure (error_after_tokens).")));
              controller.close();
              inst.finish(gen, "errored");
              return;
            }
            const frame = ev.type === "start" ? fmt.start() : ev.type === "token" ? fmt.token(ev.choice, ev.text, ev.position) : fmt.finish(ev.choice);
            if (frame) {
              controller.enqueue(encoder.encode(frame));
              return;
            }
          }
        } catch (err) {
          // Normally an abort: the client left while we waited. Anything else is a simulator bug.
          inst.finish(gen, stop.signal.aborted ? "aborted" : "errored");
          controller.error(err);
        }
      },
      cancel(reason) {
        inst.finish(gen, "aborted");
        stop.abort(reason);
        void events.return(undefined).catch(() => {});
      },
    },
    // highWaterMark 0: produce a chunk only when the reader asks for one.
    { highWaterMark: 0 },
  );
  return new Response(body, { headers: SSE_HEADERS });
}

/** Runs the generation to its end and answers with one JSON document. */
async function collect(
  inst: SimInstance,
  gen: Generation,
  events: AsyncGenerator<EngineEvent, void, undefined>,
  ctx: ResponseContext,
  plans: readonly ChoicePlan[],
  signal: AbortSignal,
): Promise<Response> {
  const sent: string[][] = plans.map(() => []);
  try {
    for await (const ev of events) {
      if (ev.type === "token") sent[ev.choice]?.push(ev.text);
      else if (ev.type === "error") {
        inst.finish(gen, "errored");
        return errorResponse(500, "Simulated engine failure (error_after_tokens).");
      } else if (ev.type === "drop") {
        inst.finish(gen, "errored");
        // Headers go out, then the body breaks: the client sees a cut connection.
        const broken = new ReadableStream({ pull: (c) => c.error(new Error("simulated connection drop")) });
        return new Response(broken, { headers: { "content-type": "application/json" } });
      }
    }
  } catch (err) {
    inst.finish(gen, signal.aborted ? "aborted" : "errored");
    if (!signal.aborted) throw err; // a simulator bug: let the server say 500
    return new Response(null, { status: CLIENT_GONE_STATUS });
  }
  inst.finish(gen, "completed");
  return new Response(JSON.stringify(buildResponse(ctx, plans, sent)), { headers: { "content-type": "application/json" } });
}
