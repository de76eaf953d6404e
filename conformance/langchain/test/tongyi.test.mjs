// LangChain JS ChatAlibabaTongyi (npm "@langchain/community") against the DashScope native
// endpoint, POST /api/v1/services/aigc/text-generation/generation. Every test is skipped while
// a probe POST to that path answers 404 (the endpoint not served yet).
//
// The client has no way to ask for thinking or JSON mode, so those are not tested here. It
// uses the global fetch, which the tests replace with a recording one.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ChatAlibabaTongyi } from '@langchain/community/chat_models/alibaba_tongyi';
import { HumanMessage, SystemMessage, ToolMessage } from '@langchain/core/messages';
import {
  MODEL, KEY, launch, startMock, recordingFetch, fixtureFile, WEATHER_QUESTION,
  WEATHER_ARGS, WEATHER_RESULT, WEATHER_ANSWER, WEATHER_SCHEMA, LONG_PROMPT,
} from '../../qwenmock.mjs';

const NATIVE_PATH = '/api/v1/services/aigc/text-generation/generation';
const CONTEXT_NATIVE = 'Range of input length should be [1, 100]';

const tongyi = (url, fields = {}) =>
  new ChatAlibabaTongyi({ model: MODEL, alibabaApiKey: KEY, apiUrl: url + NATIVE_PATH, ...fields });

const weatherTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Current weather of a city', parameters: WEATHER_SCHEMA },
};

/** Replaces globalThis.fetch with a recording fetch for one test. */
function recordGlobalFetch(t) {
  const saved = globalThis.fetch;
  const rec = recordingFetch();
  globalThis.fetch = rec;
  t.after(() => { globalThis.fetch = saved; });
  return rec;
}

async function collect(stream) {
  let agg;
  const chunks = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
    agg = agg ? agg.concat(chunk) : chunk;
  }
  return { agg, chunks };
}

/** Splits a native SSE body into events, checking the framing: no space after the colons. */
function nativeEvents(body) {
  return body.split('\n\n').filter(Boolean).map((ev) => {
    const fields = {};
    for (const line of ev.split('\n')) {
      const m = /^(id|event|data|:HTTP_STATUS)[:/](.*)$/.exec(line);
      assert.ok(m, `native SSE line ${JSON.stringify(line)}`);
      assert.ok(!m[2].startsWith(' '), `space after the colon: ${JSON.stringify(line)}`);
      fields[m[1]] = m[2];
    }
    return fields;
  });
}

describe('ChatAlibabaTongyi (native endpoint)', () => {
  let mock;
  before(async () => { mock = await launch(['--fixtures', await fixtureFile()]); });
  after(async () => assert.equal(await mock.stop(), 0));

  test('invoke: content, usage, finish reason and request id', async (t) => {
    const rec = recordGlobalFetch(t);
    const msg = await tongyi(mock.url).invoke([new SystemMessage('You are a helpful assistant.'), new HumanMessage('你是谁？')]);
    const ex = rec.last();
    assert.match(ex.headers.get('content-type'), /^application\/json/);
    assert.equal(JSON.parse(ex.reqBody).parameters.result_format, 'text');
    assert.ok(msg.content.length > 0);
    assert.equal(msg.usage_metadata.input_tokens, 22);
    assert.equal(msg.usage_metadata.total_tokens, 22 + msg.usage_metadata.output_tokens);
    assert.equal(msg.response_metadata.finish_reason, 'stop');
    assert.equal(msg.response_metadata.request_id, ex.headers.get('x-request-id'));
  });

  test('stream: incremental events, text/event-stream, usage so far on every event', async (t) => {
    const rec = recordGlobalFetch(t);
    const model = tongyi(mock.url);
    const prompt = 'Tell me a short story.';
    const want = await model.invoke(prompt);
    const { agg, chunks } = await collect(await model.stream(prompt));
    const ex = rec.last();
    assert.match(ex.headers.get('content-type'), /^text\/event-stream/);
    const events = nativeEvents(await ex.text);
    assert.ok(events.length >= 2);
    let outputSoFar = 0;
    events.forEach((ev, i) => {
      assert.equal(ev.id, String(i + 1));
      assert.equal(ev.event, 'result');
      assert.equal(ev[':HTTP_STATUS'], '200');
      const data = JSON.parse(ev.data);
      assert.equal(data.request_id, ex.headers.get('x-request-id'));
      // While generating, finish_reason is the string "null"; the last event says why it stopped.
      assert.equal(data.output.finish_reason, i === events.length - 1 ? 'stop' : 'null');
      assert.ok(data.usage.output_tokens >= outputSoFar, 'usage so far never decreases');
      outputSoFar = data.usage.output_tokens;
    });
    assert.equal(outputSoFar, want.usage_metadata.output_tokens);
    assert.equal(agg.content, want.content);
    const last = chunks.at(-1);
    assert.equal(last.response_metadata.finish_reason, 'stop');
    assert.deepEqual(
      [last.usage_metadata.input_tokens, last.usage_metadata.output_tokens],
      [want.usage_metadata.input_tokens, want.usage_metadata.output_tokens],
    );
    // Each event carries the usage so far and LangChain adds chunk usages up, so the merged
    // message counts the prompt once per event: what the client really reports.
    assert.equal(agg.usage_metadata.input_tokens, want.usage_metadata.input_tokens * chunks.filter((c) => c.usage_metadata).length);
  });

  test('streaming: true with maxTokens: finish reason length, output tokens == max_tokens', async () => {
    const msg = await tongyi(mock.url, { streaming: true, maxTokens: 5 }).invoke('Who are you?');
    assert.equal(msg.response_metadata.finish_reason, 'length');
    assert.equal(msg.usage_metadata.output_tokens, 5);
    const plain = await tongyi(mock.url, { maxTokens: 5 }).invoke('Who are you?');
    assert.equal(plain.content, msg.content);
    assert.equal(plain.usage_metadata.output_tokens, 5);
  });

  test('tool call (result_format message), then the tool result', async (t) => {
    const rec = recordGlobalFetch(t);
    const model = tongyi(mock.url).bindTools([weatherTool]);
    const messages = [new HumanMessage(WEATHER_QUESTION)];
    const ai = await model.invoke(messages);
    assert.equal(JSON.parse(rec.last().reqBody).parameters.result_format, 'message');
    assert.equal(ai.response_metadata.finish_reason, 'tool_calls');
    assert.equal(ai.tool_calls.length, 1);
    assert.match(ai.tool_calls[0].id, /^call_[0-9a-f]{24}$/);
    assert.equal(ai.tool_calls[0].name, 'get_weather');
    assert.deepEqual(ai.tool_calls[0].args, JSON.parse(WEATHER_ARGS));
    messages.push(ai, new ToolMessage({ content: WEATHER_RESULT, tool_call_id: ai.tool_calls[0].id }));
    const next = await model.invoke(messages);
    assert.equal(next.content, WEATHER_ANSWER);
    assert.equal(next.response_metadata.finish_reason, 'stop');
  });

  test('streamed tool call merges into one call', async () => {
    const model = tongyi(mock.url).bindTools([weatherTool]);
    const { agg } = await collect(await model.stream([new HumanMessage(WEATHER_QUESTION)]));
    assert.equal(agg.tool_calls.length, 1);
    assert.equal(agg.tool_calls[0].name, 'get_weather');
    assert.deepEqual(agg.tool_calls[0].args, JSON.parse(WEATHER_ARGS));
  });
});

describe('ChatAlibabaTongyi errors (native endpoint)', () => {
  test('context window 400: the native message', async (t) => {
    const url = await startMock(t, ['--max-input-tokens', '100']);
    const rec = recordGlobalFetch(t);
    await assert.rejects(tongyi(url).invoke(LONG_PROMPT), { message: CONTEXT_NATIVE });
    assert.equal(rec.last().status, 400);
    assert.deepEqual(
      (({ code, message }) => ({ code, message }))(JSON.parse(await rec.last().text)),
      { code: 'InvalidParameter', message: CONTEXT_NATIVE },
    );
    // A rejected stream: an SSE-framed body with event:error (no space) and the error status.
    // .stream() reports the status and the raw body; streaming: true parses the data line.
    await assert.rejects(async () => { for await (const _ of await tongyi(url).stream(LONG_PROMPT)); }, (err) => {
      assert.ok(err.message.startsWith('Tongyi call failed with status code 400: id:1\nevent:error\n:HTTP_STATUS/400\ndata:{'), err.message);
      assert.ok(err.message.includes(CONTEXT_NATIVE));
      return true;
    });
    const [ev] = nativeEvents(await rec.last().text);
    assert.equal(ev.event, 'error');
    assert.equal(ev[':HTTP_STATUS'], '400');
    assert.equal(JSON.parse(ev.data).code, 'InvalidParameter');
    await assert.rejects(tongyi(url, { streaming: true }).invoke(LONG_PROMPT), { message: CONTEXT_NATIVE });
  });

  test('wrong key 401: the native message', async (t) => {
    const url = await startMock(t, ['--api-key', 'sk-good']);
    await assert.rejects(tongyi(url, { alibabaApiKey: 'sk-wrong' }).invoke('hi'), { message: 'Invalid API-key provided.' });
    const ok = await tongyi(url, { alibabaApiKey: 'sk-good', maxTokens: 1 }).invoke('hi');
    assert.equal(ok.usage_metadata.output_tokens, 1);
  });
});

// No retries in practice: the 429 body is read as a result and thrown from outside the retrying
// caller, so the first 429 surfaces.

test('ChatAlibabaTongyi: RPM 429 surfaces at once (native message)', async (t) => {
  const url = await startMock(t, ['--rpm', '1']);
  const rec = recordGlobalFetch(t);
  const model = tongyi(url, { maxTokens: 5 });
  await model.invoke('hi');
  await assert.rejects(model.invoke('hi'), { message: 'Requests rate limit exceeded, please try again later.' });
  assert.deepEqual(rec.exchanges.slice(1).map((e) => e.status), [429]);
  assert.equal(JSON.parse(await rec.last().text).code, 'Throttling.RateQuota');
});
