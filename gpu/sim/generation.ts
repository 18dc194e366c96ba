/**
 * @module generation
 * `POST /v1/chat/completions` and `POST /v1/completions` for one instance:
 * validate as vLLM does, plan the choices, then either stream the engine's
 * events as SSE through a pull-based ReadableStream (so a client that stops
 * reading or leaves stops the generation), each choice's tokens grouped as
 * vLLM's `--stream-interval` groups them (the `stream_interval` knob,
 * stream-interval.ts), or collect them into one JSON.
 */
import { runEngine, untilAborted, type EngineEvent } from "./engine";
import { buildResponse, responseId, StreamFormatter, systemFingerprint, type ResponseContext } from "./formats";
import type { Generation, SimInstance } from "./instance";
import type { ProblemIndex } from "./oracle";
import { planChoices, type ChoicePlan } from "./plan";
import { parseChatRequest, parseCompletionRequest, type GenerationRequest } from "./request-schema";
import { errorResponse, parseJson } from "./responses";
import { StreamIntervalBuffer, type ChoiceOutput } from "./stream-interval";
import { StructuredOutputError } from "./structured";
import { invalidJson, unsupportedMediaType, vllmErrorText, type RequestFailure } from "./validation-errors";

/** What a generation needs from the simulator around it. */
export interface GenerationEnv {
  models: readonly string[];
  maxModelLen: number;
  /** Makes unseeded sampled requests differ from one another. */
  nonce(): string;
  /** The shipped problems oracle mode recognises; null where none were loaded (the Worker's embedded simulator). */
  problems: ProblemIndex | null;
}

const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" };
/** Status for a client that already left: nobody reads it (nginx's "client closed request"). */
const CLIENT_GONE_STATUS = 499;
const encoder = new TextEncoder();
/** Largest body kept in `last_request`, in characters. */
const LAST_REQUEST_MAX_CHARS = 64 * 1024;

/** Handles one generation request; gates (auth, cold start, fail_status) already passed. */
export async function handleGeneration(request: Request, inst: SimInstance, kind: "chat" | "completion", env: GenerationEnv): Promise<Response> {
  const reject = (status: number, failure: RequestFailure) => {
    inst.counters.rejected_total++;
    return errorResponse(status, failure.message, failure.param, failure.type);
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
  // validate_json_request (vllm/entrypoints/serve/utils/api_utils.py) runs before the body is read.
  const mediaType = (request.headers.get("content-type") ?? "").split(";", 1)[0]?.trim().toLowerCase();
  if (mediaType !== "application/json") return reject(400, unsupportedMediaType());
  if (body === undefined) return reject(400, invalidJson());
  const parsed = kind === "chat" ? parseChatRequest(body) : parseCompletionRequest(body);
  if (!parsed.ok) return reject(400, parsed);
  const req = parsed.request;
  const model = req.model ?? env.models[0] ?? "";
  // _check_model (vllm/entrypoints/openai/engine/serving.py): a 404 that names no param.
  if (!env.models.includes(model)) return reject(404, { message: `The model \`${model}\` does not exist.`, type: "NotFoundError", param: null });
  const maxTokens = resolveMaxTokens(req, env.maxModelLen);
  if (typeof maxTokens !== "number") return reject(400, maxTokens);

  const { config } = inst;
  let plans: ChoicePlan[];
  try {
    plans = planChoices(req, model, maxTokens, env.nonce(), {
      minTokens: config.min_tokens,
      finalAnswers: config.final_answers,
      oracle: config.oracle,
      hintLeakRate: config.hint_leak_rate,
      problems: env.problems,
    });
  } catch (err) {
    // vLLM refuses a schema its grammar backend cannot compile before generating anything.
    if (!(err instanceof StructuredOutputError)) throw err;
    return reject(400, { message: err.message, type: "BadRequestError", param: null });
  }

  const gen = inst.accept(model, req.promptTokens);
  // One controller stops every wait of this generation, whoever notices the client left.
  const stop = new AbortController();
  const onClientGone = () => {
    inst.finish(gen, "aborted");
    stop.abort(request.signal.reason);
  };
  if (request.signal.aborted) onClientGone();
  else request.signal.addEventListener("abort", onClientGone, { once: true });

  if (config.hang) {
    inst.markHung(gen);
    await untilAborted(stop.signal);
    return new Response(null, { status: CLIENT_GONE_STATUS });
  }
  const ctx: ResponseContext = {
    kind,
    id: responseId(kind),
    created: Math.floor(Date.now() / 1000),
    model,
    logprobs: req.logprobs,
    includeUsage: req.includeUsage,
    continuousUsage: req.continuousUsage,
    promptTokens: req.promptTokens,
    systemFingerprint: systemFingerprint(env.models, env.maxModelLen),
  };
  const events = runEngine(inst, gen, plans, stop.signal);
  if (!req.stream) return collect(inst, gen, events, ctx, plans, stop.signal);
  // The interval is an engine flag: read once, when the request starts.
  const outputs = new StreamIntervalBuffer(plans, config.stream_interval);
  return streamResponse(inst, gen, events, new StreamFormatter(ctx, plans), outputs, stop, plans);
}

/**
 * vLLM's window checks, in its order: TokenizeParams.__post_init__ (the
 * requested output alone exceeds the window) and `_token_len_check` (the
 * prompt exceeds the window less the requested output; vllm/renderers/params.py),
 * then `get_max_tokens` (vllm/entrypoints/serve/utils/api_utils.py: the rest
 * of the window, capped by the request) and SamplingParams' "at least 1".
 * Each is a VLLMValidationError: a 400 whose `param` says which limit.
 */
function resolveMaxTokens(req: GenerationRequest, maxModelLen: number): number | RequestFailure {
  const p = req.promptTokens;
  const requested = req.maxTokens ?? 0;
  const bad = (message: string, param: string, value: number): RequestFailure => ({
    message: vllmErrorText(message, param, value),
    type: "BadRequestError",
    param,
  });
  if (requested > maxModelLen) {
    // Verbatim, missing space and `{max_total_tokens=}` debug format included.
    const message = `${req.maxTokensParam}=${requested}cannot be greater than max_model_len=max_total_tokens=${maxModelLen}. Please request fewer output tokens.`;
    return bad(message, req.maxTokensParam, requested);
  }
  if (p > maxModelLen - requested) {
    const message =
      `You passed ${p} input tokens and requested ${requested} output tokens. However, the model's context length is only ` +
      `${maxModelLen} tokens, resulting in a maximum input length of ${maxModelLen - requested} tokens. Please reduce the length of the input prompt.`;
    return bad(message, "input_tokens", p);
  }
  const maxTokens = Math.min(maxModelLen - p, req.maxTokens ?? Number.POSITIVE_INFINITY);
  if (maxTokens < 1) return bad(`max_tokens must be at least 1, got ${maxTokens}.`, "max_tokens", maxTokens);
  return maxTokens;
}

/** Oracle mode's count: once per choice that ended in its boxed oracle answer. */
function countOracle(inst: SimInstance, plan: ChoicePlan | undefined): void {
  if (plan?.oracle === "correct") inst.counters.oracle_correct++;
  else if (plan?.oracle === "wrong") inst.counters.oracle_wrong++;
}

/**
 * Engine events until one chunk goes out, per pull: nothing is generated
 * ahead of what the client reads but the tokens the stream interval holds
 * back (at most N - 1 per choice), which a drop or an error then never sends.
 */
function streamResponse(
  inst: SimInstance,
  gen: Generation,
  events: AsyncGenerator<EngineEvent, void, undefined>,
  fmt: StreamFormatter,
  outputs: StreamIntervalBuffer,
  stop: AbortController,
  plans: readonly ChoicePlan[],
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
            if (ev.type === "finish") countOracle(inst, plans[ev.choice]);
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
            let frame: string;
            if (ev.type === "start") frame = fmt.start();
            else {
              const out: ChoiceOutput | null = ev.type === "token" ? outputs.token(ev.choice, ev.text, ev.position) : outputs.finish(ev.choice);
              frame = out ? fmt.output(out) : "";
            }
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
      else if (ev.type === "finish") countOracle(inst, plans[ev.choice]);
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
