// Starts and stops the qwenmock binary for the Node conformance suites (node/ and langchain/).
// Only Node built-ins: both packages import it by relative path.
//
// The binary is $QWENMOCK_BIN when set (run.sh builds it once), else it is built here from the
// working tree with `go build`, once per test file.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..');

export const MODEL = 'qwen3-max';
export const KEY = 'sk-conformance';

// The platform fetch, kept so that recordingFetch still works when a test replaces
// globalThis.fetch with it (clients that have no fetch option).
const realFetch = globalThis.fetch;

let builtBin;

/** The path of the binary under test. */
export function mockBin() {
  if (process.env.QWENMOCK_BIN) return resolve(process.env.QWENMOCK_BIN);
  if (!builtBin) {
    const dir = mkdtempSync(join(tmpdir(), 'qwenmock-conformance-'));
    builtBin = join(dir, 'qwenmock');
    execFileSync('go', ['build', '-o', builtBin, './cmd/qwenmock'], { cwd: repoRoot, stdio: 'inherit' });
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return builtBin;
}

/**
 * Launches qwenmock with --addr 127.0.0.1:0 and flags and waits for its listening line.
 * Resolves to { url, stderr(), stop() }; rejects with what the process wrote when it exits
 * first (err.stderr).
 */
export function launch(flags = []) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('QWENMOCK_')));
  const child = spawn(mockBin(), ['--addr', '127.0.0.1:0', ...flags], { stdio: ['ignore', 'ignore', 'pipe'], env });
  let stderr = '';
  const exited = new Promise((res) => child.on('exit', (code, signal) => res({ code, signal })));
  return new Promise((resolveLaunch, rejectLaunch) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rejectLaunch(Object.assign(new Error(`qwenmock ${flags.join(' ')}: no listening line in 15 s\n${stderr}`), { stderr }));
    }, 15000);
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderr += line + '\n';
      const m = /^qwenmock listening on (http:\/\/\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolveLaunch({
          url: m[1],
          stderr: () => stderr,
          /** SIGTERM, then the exit code (the process must exit 0). */
          async stop() {
            child.kill('SIGTERM');
            const kill = setTimeout(() => child.kill('SIGKILL'), 15000);
            const { code, signal } = await exited;
            clearTimeout(kill);
            return code ?? signal;
          },
        });
      }
    });
    child.on('error', (err) => { clearTimeout(timer); rejectLaunch(err); });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      rejectLaunch(Object.assign(new Error(`qwenmock ${flags.join(' ')} exited (${code ?? signal}) before listening:\n${stderr}`), { stderr }));
    });
  });
}

/**
 * Starts a mock for one test (node:test TestContext) and stops it when the test ends,
 * failing the test when the process does not exit 0. Resolves to the base URL.
 */
export async function startMock(t, flags = []) {
  const p = await launch(flags);
  t.after(async () => {
    const code = await p.stop();
    if (code !== 0) throw new Error(`qwenmock exited ${code} after SIGTERM:\n${p.stderr()}`);
  });
  return p.url;
}

export const compatBase = (url) => `${url}/compatible-mode/v1`;

export async function advanceClock(url, seconds) {
  const res = await realFetch(`${url}/_mock/clock/advance`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ seconds }) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`advance the clock: ${res.status} ${text}`);
}

/**
 * A fetch that records every exchange (request body, status, headers and the full response
 * text, read from a clone) and can add top-level fields to JSON request bodies.
 */
export function recordingFetch({ addFields } = {}) {
  const exchanges = [];
  const f = async (input, init = {}) => {
    let body = init.body;
    if (addFields && typeof body === 'string') {
      body = JSON.stringify({ ...JSON.parse(body), ...addFields });
      init = { ...init, body };
    }
    const url = typeof input === 'string' ? input : input.url ?? String(input);
    const res = await realFetch(input, init);
    const ex = { url, reqBody: typeof body === 'string' ? body : undefined, status: res.status, headers: res.headers };
    ex.text = res.clone().text();
    exchanges.push(ex);
    return res;
  };
  f.exchanges = exchanges;
  f.last = () => exchanges[exchanges.length - 1];
  f.chat = () => exchanges.filter((e) => /\/chat\/completions$/.test(e.url));
  return f;
}

/** Splits a compat SSE body into data payloads, checking the framing clients rely on. */
export function sseData(body) {
  if (!body.endsWith('data: [DONE]\n\n')) throw new Error(`stream does not end with "data: [DONE]\\n\\n": ${JSON.stringify(body.slice(-80))}`);
  return body.slice(0, -2).split('\n\n').map((ev) => {
    if (!ev.startsWith('data: ') || ev.includes('\n')) throw new Error(`event is not one data: line and a blank line: ${JSON.stringify(ev)}`);
    return ev.slice(6);
  });
}

/**
 * Checks a compat stream body: one id on every chunk, "usage":null until the usage chunk,
 * and with wantUsage a last chunk with "choices":[] and the usage. Returns the chunks.
 */
export function checkChunks(body, wantUsage) {
  const data = sseData(body);
  if (data.pop() !== '[DONE]') throw new Error('no [DONE]');
  const chunks = data.map((d) => JSON.parse(d));
  chunks.forEach((c, i) => {
    if (c.id !== chunks[0].id || !c.id.startsWith('chatcmpl-')) throw new Error(`chunk ${i} id ${c.id}, first ${chunks[0].id}`);
    if (c.object !== 'chat.completion.chunk' || c.created !== chunks[0].created || c.model !== chunks[0].model) {
      throw new Error(`chunk ${i}: object ${c.object} created ${c.created} model ${c.model}, first chunk ${chunks[0].created} ${chunks[0].model}`);
    }
    const isUsage = wantUsage && i === chunks.length - 1;
    if (!isUsage && c.usage !== null) throw new Error(`chunk ${i}: usage ${JSON.stringify(c.usage)} before the usage chunk`);
  });
  if (wantUsage) {
    const last = chunks[chunks.length - 1];
    if (!Array.isArray(last.choices) || last.choices.length !== 0 || !last.usage) {
      throw new Error(`usage chunk ${JSON.stringify(last)}: want "choices":[] and a usage object`);
    }
  }
  return chunks;
}

/** Parses the compat error envelope of a body (plain JSON or one SSE data line). */
export function errorEnvelope(text) {
  const json = text.trim().replace(/^data: /, '');
  const env = JSON.parse(json);
  if (typeof env?.error?.message !== 'string' || typeof env.error.code !== 'string') {
    throw new Error(`not the compat envelope with string message and code: ${text}`);
  }
  return env;
}

export const fixturesYAML = `fixtures:
  - name: conformance-weather
    match:
      contains: weather in Hangzhou
      tools: true
    replies:
      - tool_calls:
          - name: get_weather
            arguments: {city: Hangzhou, unit: celsius}
      - content: "It is sunny in Hangzhou, 24 °C."
  - name: conformance-prime
    match:
      contains: "Is 17 prime"
    reply:
      content: "Yes, 17 is prime."
      reasoning: "17 is not divisible by 2, 3 or any prime up to its square root, so it is prime."
`;

export const WEATHER_QUESTION = 'What is the weather in Hangzhou?';
export const WEATHER_ARGS = '{"city": "Hangzhou", "unit": "celsius"}';
export const WEATHER_RESULT = '{"condition": "sunny", "celsius": 24}';
export const WEATHER_ANSWER = 'It is sunny in Hangzhou, 24 °C.';
export const PRIME_QUESTION = 'Is 17 prime?';
export const PRIME_ANSWER = 'Yes, 17 is prime.';
export const PRIME_REASONING = '17 is not divisible by 2, 3 or any prime up to its square root, so it is prime.';
export const JSON_QUESTION = 'List three colours as JSON.';
export const WEATHER_SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
  required: ['city', 'unit'],
};
export const LONG_PROMPT = 'word '.repeat(200);
export const CONTEXT_MESSAGE = '<400> InternalError.Algo.InvalidParameter: Range of input length should be [1, 100]';
export const WRONG_KEY_MESSAGE = 'Incorrect API key provided. For details, see: https://www.alibabacloud.com/help/en/model-studio/error-code#apikey-error';
export const JSON_WORD_MESSAGE = "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.";
export const RPM_MESSAGE = 'You have exceeded your current request limit. For details, see: https://www.alibabacloud.com/help/en/model-studio/error-code#rate-limit';
export const TPM_MESSAGE = 'You exceeded your current quota, please check your plan and billing details. For details, see: https://www.alibabacloud.com/help/en/model-studio/error-code#token-limit';
/** Admits one "hi" request cut at 5 tokens (9 + 5 tokens) and refuses a second in the minute. */
export const TPM_LIMIT = '20';

/** Writes the fixtures into a temporary file, removed when the process exits. */
export async function fixtureFile() {
  const { writeFileSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'qwenmock-fixtures-'));
  const path = join(dir, 'fixtures.yaml');
  writeFileSync(path, fixturesYAML);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return path;
}

// --- The Anthropic-compatible endpoint (the anthropic/ package) ---

export const anthropicBase = (url) => `${url}/apps/anthropic`;
export const MSG_ID = /^msg_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const TOOLU_ID = /^toolu_[0-9a-f]{24}$/;
export const USAGE_KEYS = ['cache_creation_input_tokens', 'cache_read_input_tokens', 'input_tokens', 'output_tokens'];
export const RANGE_100 = 'Range of input length should be [1, 100]';
export const RATE_QUOTA_BODY = '"code":"Throttling.RateQuota","message":"Requests rate limit exceeded, please try again later."';

/**
 * Splits an Anthropic SSE body into { event, data } (data parsed), checking what the SDKs
 * need: every event is an event: line and a data: line (the SDKs skip frames with no event:
 * line), data.type equals the event name (an error event may carry DashScope's native body,
 * which has none), and there is no [DONE].
 */
export function anthropicFrames(body) {
  if (!body.endsWith('\n\n')) throw new Error(`stream does not end with a blank line: ${JSON.stringify(body.slice(-80))}`);
  return body.slice(0, -2).split('\n\n').map((ev) => {
    const m = /^event: ?([a-z_]+)\ndata: ?(.*)$/.exec(ev);
    if (!m) throw new Error(`event is not an event: line and a data: line: ${JSON.stringify(ev)}`);
    const data = JSON.parse(m[2]);
    // DashScope's error event carries its native body, which has no "type".
    if (data.type !== m[1] && !(m[1] === 'error' && data.type === undefined)) throw new Error(`event ${m[1]} carries type ${data.type}`);
    return { event: m[1], data };
  });
}

/**
 * Checks DashScope's stream shape (spec/shapes.md §A.6) and returns the frames without pings:
 * at least one ping; message_start first, with no stop_reason/stop_sequence and usage of only
 * input_tokens and output_tokens; blocks opened in index order, a signature_delta "" for each
 * thinking block; message_delta with stop_sequence null and the four usage fields;
 * message_stop last.
 */
export function checkAnthropicStream(body) {
  const all = anthropicFrames(body);
  if (!all.some((f) => f.event === 'ping')) throw new Error('no ping event');
  const frames = all.filter((f) => f.event !== 'ping');
  const names = frames.map((f) => f.event);
  if (names[0] !== 'message_start' || names.at(-1) !== 'message_stop' || names.at(-2) !== 'message_delta') {
    throw new Error(`event order ${names.join(' ')}`);
  }
  const start = frames[0].data.message;
  if ('stop_reason' in start || 'stop_sequence' in start) throw new Error(`message_start has stop fields: ${JSON.stringify(start)}`);
  if (Object.keys(start.usage).sort().join() !== 'input_tokens,output_tokens') {
    throw new Error(`message_start usage ${JSON.stringify(start.usage)}`);
  }
  const delta = frames.at(-2).data;
  if (delta.delta.stop_sequence !== null) throw new Error(`message_delta ${JSON.stringify(delta)}`);
  if (Object.keys(delta.usage).sort().join() !== USAGE_KEYS.join()) throw new Error(`message_delta usage ${JSON.stringify(delta.usage)}`);
  let next = 0;
  frames.forEach((f, i) => {
    if (f.event !== 'content_block_start') return;
    if (f.data.index !== next++) throw new Error(`content_block_start index ${f.data.index}, want ${next - 1}`);
    if (f.data.content_block.type === 'thinking') {
      if (f.data.content_block.signature !== '') throw new Error(`thinking block ${JSON.stringify(f.data)}`);
      const sig = frames.slice(i).find((g) => g.data.index === f.data.index && g.data.delta?.type === 'signature_delta');
      if (sig?.data.delta.signature !== '') throw new Error('no signature_delta with an empty signature');
    }
  });
  return frames;
}
