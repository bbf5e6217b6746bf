// The dashboard in a real headless browser: Debian's chromium at /usr/bin/chromium, driven by
// playwright-core (which never downloads a browser). Claims come from real pushes; the page
// must change without a reload when refs change. Skipped, with the reason, without chromium.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type RunningServe } from '../front/serve.js';
import { cli, commit, sharedRepo } from './helpers/git.js';
import { enqueue, markBatch } from './helpers/dashboard.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`skipping the dashboard's browser tests: ${CHROMIUM} is missing (apt-get install -y chromium; .ci/run does)`);

describe.skipIf(!hasChromium)('serve: in a headless browser', () => {
  let browser: Browser;
  const running: RunningServe[] = [];
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.close()));
  });
  const serve = async (repo: string) => {
    const s = await startServe({ repo, port: 0, debounceMs: 50 });
    running.push(s);
    return s;
  };

  it('shows a claim made by a real push, then a new claim and a queue entry without a reload', async () => {
    const { upstream, clones } = sharedRepo(['agent-1', 'agent-2']);
    expect(cli(['claim', 'parser', '--files', 'src/parser/**', '-m', 'nested calls'], { cwd: clones['agent-1']! }).exitCode).toBe(0);
    const s = await serve(upstream);
    const page = await browser.newPage();
    let navigations = 0;
    page.on('framenavigated', (frame) => frame === page.mainFrame() && navigations++);
    await page.goto(s.url);
    const parser = page.locator('#claims tr[data-task="parser"]');
    await expect(parser.locator('td').first().textContent()).resolves.toBe('agent-1');
    expect(await parser.textContent()).toContain('src/parser/**');
    await page.locator('#live', { hasText: 'Live: watching for ref changes' }).waitFor();

    expect(cli(['claim', 'lexer', '--files', 'src/lexer/**'], { cwd: clones['agent-2']! }).exitCode).toBe(0);
    await page.locator('#claims tr[data-task="lexer"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('#claims tr[data-task="lexer"] td').first().textContent()).toBe('agent-2');

    await page.locator('#queue', { hasText: 'The queue is empty.' }).waitFor();
    commit(clones['agent-2']!, { 'src/lexer/a.ts': 'a\n' }, 'lexer: tokens');
    enqueue(upstream, clones['agent-2']!, 'refs/land/agent-2/lexer');
    const entry = page.locator('#queue tr[data-ref="refs/land/agent-2/lexer"]');
    await entry.waitFor({ timeout: 15_000 });
    expect(await entry.textContent()).toContain('lexer: tokens');
    expect(await entry.textContent()).toContain('waiting');
    // The lander takes it into a batch: the row says so, and the batch line appears.
    markBatch(upstream, ['refs/land/agent-2/lexer']);
    await page.locator('#queue tr[data-ref="refs/land/agent-2/lexer"]', { hasText: 'testing' }).waitFor({ timeout: 15_000 });
    expect(await page.locator('#batch').textContent()).toMatch(/Batch under test: 1 entry merged onto/);
    expect(navigations).toBe(1);
    await page.close();
  });

  it('reads without JavaScript: server-rendered tables with captions and header cells, health in words', async () => {
    const { upstream, clones } = sharedRepo(['agent-1']);
    expect(cli(['claim', 'docs', '--files', 'docs/**'], { cwd: clones['agent-1']! }).exitCode).toBe(0);
    const s = await serve(upstream);
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(s.url);
    expect(await page.locator('#claims tr[data-task="docs"]').textContent()).toContain('agent-1');
    expect(await page.locator('#live').textContent()).toMatch(/live updates need JavaScript/);
    for (const id of ['claims', 'queue', 'activity', 'agents']) {
      expect(await page.locator(`#${id} caption`).count()).toBe(1);
      expect(await page.locator(`#${id} thead th[scope="col"]`).count()).toBeGreaterThan(2);
    }
    expect(await page.locator('h1').count()).toBe(1);
    expect(await page.locator('h2').count()).toBe(5);
    expect(await page.locator('#health').textContent()).toMatch(/green|red|unknown/);
    await context.close();
  });
});
