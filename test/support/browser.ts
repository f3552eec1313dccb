// Debian's Chromium for browser tests, never a downloaded browser.
export const CHROMIUM = process.env.TWINFLOW_CHROMIUM ?? '/usr/bin/chromium';
// Without the background-networking flags Chromium keeps dialing out, which a closed network refuses.
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
