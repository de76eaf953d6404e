// Claude Code itself (`claude -p`) run offline against qwenmock's Anthropic endpoint: a text
// turn, a Read-tool round trip, and "Prompt is too long" on a context overflow.
//
// The binary is $CLAUDE_CODE_BIN (conformance/run.sh installs the version pinned in
// conformance/claude-code/ into a cache outside the clone). Requests go through a recording
// proxy so that the test sees what Claude Code sent and got. Each run is bounded: a
// wall-clock timeout kills it, --max-turns caps the loop.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODEL, KEY, startMock, anthropicBase, anthropicFrames } from '../../qwenmock.mjs';

const bin = process.env.CLAUDE_CODE_BIN;
const RUN_TIMEOUT_MS = 120_000;
const skip = bin ? false : 'CLAUDE_CODE_BIN is not set (conformance/run.sh installs Claude Code and sets it)';

const MAGIC_PROMPT = 'Say the magic word, please.';
const MAGIC_ANSWER = 'The magic word is PAPAYA.';
const SECRET = 'PINEAPPLE-42 grows on the third shelf.';
const READ_ANSWER = 'The secret file says: PINEAPPLE-42 grows on the third shelf.';

/** A temporary directory removed when the test ends. */
function tempDir(t, prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A loopback HTTP proxy in front of the mock that keeps every exchange. */
async function recordingProxy(t, target) {
  const exchanges = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const ex = { method: req.method, url: req.url, headers: req.headers, body: body.toString('utf8') };
      exchanges.push(ex);
      try {
        const headers = { ...req.headers };
        delete headers.host;
        delete headers['content-length'];
        delete headers['accept-encoding'];
        const up = await fetch(target + req.url, { method: req.method, headers, body: body.length ? body : undefined });
        ex.status = up.status;
        const out = {};
        up.headers.forEach((v, k) => { if (k !== 'content-length' && k !== 'content-encoding' && k !== 'transfer-encoding') out[k] = v; });
        res.writeHead(up.status, out);
        const reader = up.body.getReader();
        let text = '';
        const dec = new TextDecoder();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          text += dec.decode(value, { stream: true });
          res.write(value);
        }
        ex.response = text;
        res.end();
      } catch (err) {
        ex.error = String(err);
        res.destroy();
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => { server.closeAllConnections(); server.close(r); }));
  exchanges.url = `http://127.0.0.1:${server.address().port}`;
  exchanges.messages = () => exchanges.filter((e) => e.method === 'POST' && e.url.startsWith('/apps/anthropic/v1/messages'));
  return exchanges;
}

/** Runs `claude -p prompt` in cwd against baseURL; resolves to { code, stdout, stderr, json, ms }. */
function runClaude(t, { baseURL, cwd, prompt, args = [], retries = 0 }) {
  const home = tempDir(t, 'claude-home-');
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    TMPDIR: tmpdir(),
    ANTHROPIC_BASE_URL: baseURL,
    ANTHROPIC_API_KEY: KEY,
    ANTHROPIC_MODEL: MODEL,
    ANTHROPIC_SMALL_FAST_MODEL: MODEL,
    ANTHROPIC_DEFAULT_HAIKU_MODEL: MODEL,
    ANTHROPIC_DEFAULT_SONNET_MODEL: MODEL,
    ANTHROPIC_DEFAULT_OPUS_MODEL: MODEL,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_MAX_RETRIES: String(retries),
  };
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['-p', prompt, '--output-format', 'json', '--max-turns', '4', ...args],
      { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = Date.now() - start;
      let json;
      try { json = JSON.parse(stdout); } catch { /* not JSON: the assertions show stdout */ }
      if (signal) return reject(new Error(`claude killed by ${signal} after ${ms} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
      t.diagnostic(`claude -p ran ${ms} ms, exit ${code}`);
      resolve({ code, stdout, stderr, json, ms });
    });
  });
}

function fixtures(readPath) {
  return `fixtures:
  - name: claude-magic
    match:
      contains: "${MAGIC_PROMPT}"
    reply:
      content: "${MAGIC_ANSWER}"
  - name: claude-read
    match:
      contains: read the secret file
      tools: true
    replies:
      - tool_calls:
          - name: Read
            arguments: {file_path: "${readPath}"}
      - content: "${READ_ANSWER}"
`;
}

describe('Claude Code', { skip }, () => {
  test('version', async (t) => {
    const out = await new Promise((resolve, reject) => {
      const child = spawn(bin, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, HOME: tempDir(t, 'claude-home-') } });
      let s = '';
      child.stdout.on('data', (d) => { s += d; });
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('close', (code) => { clearTimeout(timer); code === 0 ? resolve(s) : reject(new Error(`exit ${code}`)); });
    });
    t.diagnostic(`claude --version: ${out.trim()}`);
    assert.match(out, /^\d+\.\d+\.\d+/);
  });

  test('a text turn, and a Read-tool round trip', { timeout: 300_000 }, async (t) => {
    const work = tempDir(t, 'claude-work-');
    mkdirSync(join(work, 'notes'));
    const secretPath = join(work, 'notes', 'secret.txt');
    writeFileSync(secretPath, SECRET + '\n');
    const fixtureDir = tempDir(t, 'claude-fixtures-');
    writeFileSync(join(fixtureDir, 'fixtures.yaml'), fixtures(secretPath));
    const url = await startMock(t, ['--fixtures', join(fixtureDir, 'fixtures.yaml')]);
    const proxy = await recordingProxy(t, url);

    const text = await runClaude(t, { baseURL: anthropicBase(proxy.url), cwd: work, prompt: MAGIC_PROMPT });
    assert.equal(text.code, 0, `stdout: ${text.stdout}\nstderr: ${text.stderr}`);
    assert.equal(text.json?.is_error, false, text.stdout);
    assert.equal(text.json.result, MAGIC_ANSWER);
    const calls = proxy.messages();
    assert.ok(calls.length >= 1);
    const main = calls.find((e) => e.body.includes(MAGIC_PROMPT) && JSON.parse(e.body).tools?.length);
    assert.ok(main, 'a request with the prompt and tools');
    assert.match(main.url, /^\/apps\/anthropic\/v1\/messages\?beta=true$/);
    assert.equal(main.headers['x-api-key'], KEY);
    assert.equal(main.status, 200);
    const req = JSON.parse(main.body);
    assert.equal(req.stream, true);
    assert.equal(req.model, MODEL);
    const frames = anthropicFrames(main.response);
    assert.equal(frames.at(-1).event, 'message_stop');
    assert.ok(calls.every((e) => e.status === 200), calls.map((e) => `${e.url} ${e.status}`).join('\n'));

    proxy.length = 0;
    const read = await runClaude(t, {
      baseURL: anthropicBase(proxy.url), cwd: work, prompt: `Please read the secret file ${secretPath} and tell me what it says.`,
      args: ['--allowedTools', 'Read'],
    });
    assert.equal(read.code, 0, `stdout: ${read.stdout}\nstderr: ${read.stderr}`);
    assert.equal(read.json?.is_error, false, read.stdout);
    assert.equal(read.json.result, READ_ANSWER);
    t.diagnostic(`requests: ${proxy.messages().map((e) => `${JSON.parse(e.body).stream ? 'stream' : 'non-stream'} ${e.status}`).join(', ')}`);
    const turns = proxy.messages().filter((e) => e.body.includes('read the secret file'));
    assert.ok(turns.length >= 2, `${turns.length} requests with the prompt`);
    const first = anthropicFrames(turns[0].response);
    const use = first.find((f) => f.event === 'content_block_start' && f.data.content_block.type === 'tool_use');
    assert.ok(use, 'the first answer is a tool_use');
    assert.equal(use.data.content_block.name, 'Read');
    // The second request carries the file's content back as the tool_result.
    const second = JSON.parse(turns.at(-1).body);
    const results = second.messages.flatMap((m) => (Array.isArray(m.content) ? m.content : []))
      .filter((b) => b.type === 'tool_result' && b.tool_use_id === use.data.content_block.id);
    assert.equal(results.length, 1, JSON.stringify(second.messages).slice(0, 2000));
    const content = typeof results[0].content === 'string' ? results[0].content : JSON.stringify(results[0].content);
    assert.ok(content.includes(SECRET), content);
  });

  test('context overflow: "Prompt is too long", not retried', async (t) => {
    const work = tempDir(t, 'claude-work-');
    const url = await startMock(t, ['--max-input-tokens', '1000']);
    const proxy = await recordingProxy(t, url);
    const run = await runClaude(t, { baseURL: anthropicBase(proxy.url), cwd: work, prompt: MAGIC_PROMPT, retries: 2 });
    assert.equal(run.json?.is_error, true, `stdout: ${run.stdout}\nstderr: ${run.stderr}`);
    t.diagnostic(`result: ${run.json.result}`);
    assert.match(run.json.result, /Prompt is too long/);
    assert.match(run.json.result, /Range of input length should be \[1, 1000\]/);
    const overflows = proxy.messages().filter((e) => e.status === 400);
    assert.equal(overflows.length, 1, 'the 400 is not retried');
    assert.match(overflows[0].response, /^event:error\ndata:\{"code":"InvalidParameter","message":"Range of input length should be \[1, 1000\]"/);
  });
});
