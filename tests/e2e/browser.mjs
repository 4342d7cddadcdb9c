// What every browser test shares: Debian's Chromium driven by playwright-core, the flags for a
// quiet, deterministic headless run here, and the reason to skip (not fail) when either is
// missing. CHROMIUM_PATH overrides /usr/bin/chromium; playwright-core comes from `npm ci` in the
// repository root.

import fs from 'node:fs';
import path from 'node:path';

import {SOURCE_DIR} from '../integration/lib/harness.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PLAYWRIGHT = path.join(SOURCE_DIR, 'node_modules/playwright-core/index.mjs');

/** Why the browser tests cannot run here, or null. Pass as `{skip: missing ?? false}`. */
export const missing = !fs.existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM}` :
    !fs.existsSync(PLAYWRIGHT) ? 'playwright-core is not installed (run `npm ci`)' : null;

// No sandbox (containers), no GPU, no background traffic, autoplay without a gesture (the pages
// also mute, as real browsers need).
const CHROMIUM_ARGS = [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required',
];

/** Starts headless Chromium (playwright's Browser). */
export async function launchChromium() {
    const {chromium} = await import(PLAYWRIGHT);
    return chromium.launch({executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS});
}

/** Starts headless Chromium with a profile in `userDataDir` (playwright's BrowserContext). */
export async function launchPersistentChromium(userDataDir) {
    const {chromium} = await import(PLAYWRIGHT);
    return chromium.launchPersistentContext(userDataDir,
                                            {executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS});
}
