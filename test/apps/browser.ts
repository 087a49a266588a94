// A real Chromium for the app tests: Debian's `chromium` package (/usr/bin/chromium, or CHROMIUM_PATH)
// driven by playwright-core, with a fresh profile directory per launch. Nothing is downloaded.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '@cruise/testkit';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import QRCode from 'qrcode';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-results', 'screenshots');

const BASE_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches Chromium on a fresh --user-data-dir; `fakeVideo` (a .y4m file) becomes the camera. */
export async function launchChromium(opts: { fakeVideo?: string } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  const profile = await mkdtemp(path.join(tmpdir(), 'cruise-chromium-'));
  const args = [...BASE_ARGS];
  if (opts.fakeVideo) {
    args.push(
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-video-capture=${opts.fakeVideo}`,
    );
  }
  // launchPersistentContext is how playwright takes a --user-data-dir of our choosing.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args,
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Full-page screenshots at a desktop (1280 px) and a phone (390 px) width, into test-results/screenshots. */
export async function screenshots(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const original = page.viewportSize() ?? { width: 1280, height: 900 };
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize(original);
}

/** The page's content fits `width` without horizontal scrolling (usable on a 360 px phone). */
export async function overflowAt(page: Page, width: number): Promise<number> {
  const original = page.viewportSize() ?? { width: 1280, height: 900 };
  await page.setViewportSize({ width, height: 800 });
  // Page code as a string: this file is compiled for Node, without the DOM's types.
  const scrollWidth = (await page.evaluate('document.documentElement.scrollWidth')) as number;
  await page.setViewportSize(original);
  return scrollWidth - width;
}

/**
 * A Y4M video (4:2:0, what Chromium's fake capture device reads) showing `text` as a QR code, black
 * modules on white with the standard 4-module quiet zone, the same in every frame.
 */
export async function qrVideo(text: string, file: string, size = { width: 640, height: 480 }): Promise<void> {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const modules = qr.modules.size;
  const quiet = 4;
  const scale = Math.floor((Math.min(size.width, size.height) * 0.9) / (modules + 2 * quiet));
  const side = (modules + 2 * quiet) * scale;
  const left = Math.floor((size.width - side) / 2);
  const top = Math.floor((size.height - side) / 2);
  const y = Buffer.alloc(size.width * size.height, 255);
  for (let row = 0; row < modules; row++) {
    for (let col = 0; col < modules; col++) {
      if (!qr.modules.get(row, col)) continue;
      const x0 = left + (col + quiet) * scale;
      const y0 = top + (row + quiet) * scale;
      for (let dy = 0; dy < scale; dy++)
        y.fill(0, (y0 + dy) * size.width + x0, (y0 + dy) * size.width + x0 + scale);
    }
  }
  const chroma = Buffer.alloc((size.width / 2) * (size.height / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, chroma]);
  const header = Buffer.from(`YUV4MPEG2 W${size.width} H${size.height} F10:1 Ip A1:1 C420jpeg\n`);
  await writeFile(file, Buffer.concat([header, ...Array.from({ length: 10 }, () => frame)]));
}
