// The dashboard in headless Chromium (playwright-core driving the system's browser, nothing
// downloaded), against a store made by a real tiny zoo and a report made by a real `reproduce`:
// every page loads, the table shows the runs, a filter narrows it, grouping shows means, charts
// render, a committed run reaches the live page, and no page logs a console error. Screenshots go to
// $DLTHEORY_SCREENSHOTS when set. Skipped, saying why, without Chromium (scripts/setup.sh installs it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { createServer } from '../src/serve/server.js';
import { openStore } from '../src/store/runs.js';
import { cliRunner } from './cli-run.js';
import { fillStore, syntheticRun } from '../bench/serve-store.js';

/** $CHROMIUM, else the first of Debian's and other usual names on PATH. */
function findChromium(): string | undefined {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    const r = spawnSync('which', [name], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return undefined;
}

test('the dashboard pages in Chromium', { timeout: 120_000 }, async (t) => {
  const executablePath = findChromium();
  if (!executablePath) return t.skip("no Chromium (chromium on PATH or $CHROMIUM): scripts/setup.sh installs Debian's chromium");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dltheory-browser-'));
  const shots = process.env.DLTHEORY_SCREENSHOTS ?? path.join(dir, 'shots');
  fs.mkdirSync(shots, { recursive: true });
  const runs = path.join(dir, 'runs');
  const grid = path.join(dir, 'tiny.json');
  // 12 MLPs, 2 epochs on a few hundred MNIST digits, 3 seeds a cell: seconds.
  fs.writeFileSync(grid, JSON.stringify({ name: 'tiny', epochs: 2, axes: { width: [16, 32], trainSize: [200, 300], seed: [0, 1, 2] } }));
  const { cli } = cliRunner();
  for (const args of [['zoo', '--grid', grid, '--runs', runs], ['reproduce', 'gdv-closed-forms', '--quick', '--out', path.join(dir, 'reports'), '--runs',
    runs]])
  {
    const r = cli(...args);
    assert.equal(r.code, 0, `dltheory ${args.join(' ')}: ${r.stderr}`);
  }
  const app = await createServer({ runs, reports: path.join(dir, 'reports'), liveIntervalMs: 200 });
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'], headless: true });
  try {
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    const open = async (hash: string, selector: string) => {
      await page.goto(`${url}/${hash}`);
      await page.waitForSelector(selector);
    };
    const shot = (name: string) => page.screenshot({ path: path.join(shots, `serve-${name}.png`) });
    const rows = (p: Page, id: string) => p.locator(`#${id} tbody tr`).count();

    await open('#/runs', '#runs');
    assert.match((await page.locator('#count').textContent()) ?? '', /of 12\b/);
    assert.equal(await rows(page, 'runs'), 12);
    await shot('runs');
    await page.fill('#filter', 'hparams.width=32; hparams.trainSize>=300');
    await page.press('#filter', 'Enter');
    await page.waitForFunction("/of 3\\b/.test(document.querySelector('#count')?.textContent ?? '')");
    assert.equal(await rows(page, 'runs'), 3);

    await open('#/runs?group=1', '#groups');
    assert.match((await page.locator('#count').textContent()) ?? '', /groups 1–4 of 4/);
    const cells = await page.locator('#groups tbody tr').first().locator('td').allTextContents();
    assert.ok(cells.includes('3') && cells.includes('0, 1, 2'), `three seeds a group: ${cells}`);
    assert.ok(cells.some((c) => /^-?\d[\d.e-]* ± \d/.test(c)), `means ± sd: ${cells}`);
    await shot('groups');

    await open('#/runs', '#runs');
    await page.locator('#runs input.select').nth(0).check();
    await page.locator('#runs input.select').nth(1).check();
    await page.click('#compare');
    await page.waitForSelector('#compare-table');
    assert.ok((await rows(page, 'compare-table')) >= 1);

    await open('#/runs', '#runs');
    await page.locator('#runs tbody a').first().click();
    await page.waitForSelector('.vega-chart svg');
    assert.ok((await rows(page, 'layers')) >= 2, 'the model summary');
    await page.check('#log');
    await page.waitForFunction("location.hash.includes('log=1') && document.querySelector('.vega-chart svg') !== null");
    await shot('run');

    await open('#/population?tag=zoo/tiny', '#ranking');
    await page.waitForFunction("document.querySelectorAll('.vega-chart svg').length >= 3");
    assert.ok((await rows(page, 'ranking')) >= 10);
    await shot('population');

    await open('#/claims', '#verdicts');
    assert.match((await page.locator('#verdicts').textContent()) ?? '', /gdv-closed-forms\s*holds/);
    await page.click('#claim-gdv-closed-forms summary');
    await page.waitForSelector('#claim-gdv-closed-forms .vega-chart svg');
    await shot('claims');

    await open('#/live', '#live-status');
    await page.waitForFunction("/watching/.test(document.querySelector('#live-status')?.textContent ?? '')");
    {
      using store = openStore(runs);
      fillStore(store, 1);
    }
    await page.waitForSelector(`#live-runs a:text("${syntheticRun(0).id}")`);
    await shot('live');

    assert.deepEqual(errors, [], 'no console errors');
    t.diagnostic(`screenshots in ${shots}`);
  } finally {
    await browser.close();
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
