// The README's screenshots of `dltheory serve` (docs/serve-*.png), taken in headless Chromium:
//   npx tsc -p . && node scripts/serve-screenshots.mjs RUNS_DIR REPORTS_DIR [OUT_DIR=docs]
// RUNS_DIR holds the quick zoo (`dltheory zoo --grid quick`), REPORTS_DIR a `reproduce --quick` output.
import { chromium } from 'playwright-core';
import { createServer } from '../dist/src/serve/server.js';

const [runs, reports, out = 'docs'] = process.argv.slice(2);
if (!runs || !reports) {
  console.error('usage: node scripts/serve-screenshots.mjs RUNS_DIR REPORTS_DIR [OUT_DIR]');
  process.exit(2);
}
const PAGES = [
  ['runs', '#/runs?sort=final.gap&desc=1&f=tag~zoo', '#runs'],
  ['population', '#/population?tag=zoo/quick&measure=margin.output.log_median&color=trainSize', '#ranking'],
  ['claims', '#/claims', '#verdicts'],
];
const app = await createServer({ runs, reports });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'], headless: true });
try {
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
  for (const [name, hash, selector] of PAGES) {
    await page.goto(`${url}/${hash}`);
    await page.waitForSelector(selector);
    // Charts render after the table: give vega-embed its moment.
    await page.waitForTimeout(1000);
    await page.screenshot({ path: `${out}/serve-${name}.png` });
    console.log(`${out}/serve-${name}.png`);
  }
} finally {
  await browser.close();
  await app.close();
}
