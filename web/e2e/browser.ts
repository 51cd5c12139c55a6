import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

// Debian's Chromium, headless, with the flags that keep it from phoning home (GUIDE §6).
export const CHROMIUM = process.env.MMM_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export class MissingChromiumError extends Error {
  override readonly name = 'MissingChromiumError';
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new MissingChromiumError(
      `Chromium is not installed at ${CHROMIUM}: install it with \`sudo apt-get install -y chromium\` (npm test's bootstrap does this as root), or point MMM_CHROMIUM at a Chromium binary`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}
