// The watch page's player: reads the broadcast id from /watch/<id>, asks the API for the
// broadcast, plays its live HLS with hls.js (or the browser's native HLS), and follows the
// broadcast's lifecycle by polling the cheap status endpoint every ~2 s:
//
//   idle       waiting for the publisher; nothing is loaded
//   live       playing; after a pause or a failed load, a fresh player joins at the live edge
//   suspended  "Broadcast paused — waiting for the streamer"; the player stops loading
//   ended      the recording (vod_url) plays when the server has it, else "Broadcast ended"
//
// The playlist is never retried in a loop: a fatal hls.js network error drops the player and
// hands over to status polling, which rebuilds it only while the status says live, with a
// growing back-off (2 s .. 16 s).
//
// The element #status carries data-status (idle|live|suspended|ended|not_found|error|loading)
// and data-mode (live|vod|"") for tests and styling; the video element is #player.
//
// The chat panel (chat.js) follows the same state: live chat while the broadcast is on (or
// ended without a recording), the replay in time with the video once the recording plays.

import {ChatPanel} from './chat.js';
import {LovePanel} from './love.js';

const POLL_INTERVAL_MS = 2000;
const MIN_RESTART_DELAY_MS = 2000;
const MAX_RESTART_DELAY_MS = 16000;
const MAX_VOD_ATTEMPTS = 3;

const MESSAGES = {
  loading: 'Loading…',
  idle: 'Waiting for the broadcast to start',
  live: 'Live',
  suspended: 'Broadcast paused — waiting for the streamer',
  ended: 'Broadcast ended',
  vod: 'Broadcast ended — playing the recording',
  not_found: 'Broadcast not found',
  error: 'Cannot reach the server — retrying',
};

const statusEl = document.getElementById('status');
const titleEl = document.getElementById('title');
const video = document.getElementById('player');

/** The id from /watch/<id> (a trailing slash is tolerated). */
function idFromPath(pathname) {
  const parts = pathname.split('/').filter(Boolean);
  return parts.length >= 2 && parts[0] === 'watch' ? decodeURIComponent(parts[1]) : '';
}

const id = idFromPath(location.pathname);
const apiPath = `/api/v1/broadcasts/${encodeURIComponent(id)}`;
const statusPath = `${apiPath}/status`;
const chat = id ? new ChatPanel({broadcastId: id, video, onLove: (t) => love?.onTotal(t)}) : null;
// The last status answer: where its updated_at is on the media timeline (love taps' time).
let edge = null; // {position, at (ms, this clock), max (s the edge may run ahead)}
const love = id ? new LovePanel({broadcastId: id, guest: () => chat?.guest ?? null,
                                 mediaTime: () => mediaTimeShown()}) : null;

/**
 * The broadcast's media time of the frame shown now: the live edge (the last status'
 * position, advanced by the time since its updated_at, at most 3 target durations) minus how
 * far the player is behind the edge. null before the first segment.
 */
function mediaTimeShown() {
  if (!edge) return null;
  const ahead = Math.min(Math.max(0, (Date.now() - edge.at) / 1000), edge.max);
  return Math.max(0, edge.position + ahead - (player?.behind() ?? 0));
}

function show(status, message = MESSAGES[status], mode = undefined) {
  statusEl.dataset.status = status;
  if (mode !== undefined) statusEl.dataset.mode = mode;
  statusEl.textContent = message;
  chat?.update(status, statusEl.dataset.mode);
  love?.update(statusEl.dataset.mode === 'vod' ? 'ended' : status);
}


/**
 * The URL to load for a media URL from the API: its path on this page's own origin. Whatever
 * served this page serves the same URLs — the origin itself, or an edge tier in front of it
 * (docs/EDGE.md) — and the API's absolute URLs name the origin's configured host, which would
 * send every player around the edges (or nowhere, when that host is a loopback address seen
 * from another machine).
 */
function mediaUrl(url, fallbackPath) {
  if (!url) return new URL(fallbackPath, location.href).href;
  const u = new URL(url, location.href);
  return new URL(u.pathname + u.search, location.href).href;
}

// --- the player: one hls.js instance or the native element, behind one small interface ------

let player = null;         // {stop(), destroy()} for the current source
let mode = '';             // 'live' | 'vod' | ''
let liveStopped = false;   // stopLoad() after a suspension
let restartDelay = MIN_RESTART_DELAY_MS;
let restartNotBefore = 0;  // no rebuild of a failed live player before this time
let vodAttempts = 0;
let broadcast = null;

function canPlayNatively() {
  return video.canPlayType('application/vnd.apple.mpegurl') !== '';
}

function play() {
  // Muted autoplay is allowed everywhere; a rejection (e.g. a policy change) is not fatal.
  video.play().catch(() => {});
}

function createPlayer(url, live) {
  const Hls = window.Hls;
  if (Hls && Hls.isSupported()) {
    const hls = new Hls(live ? {lowLatencyMode: false, liveSyncDurationCount: 3} : {});
    let mediaRecoveries = 0;
    hls.on(Hls.Events.MANIFEST_PARSED, play);
    hls.on(Hls.Events.FRAG_BUFFERED, () => {
      restartDelay = MIN_RESTART_DELAY_MS; // healthy again: reset the back-off
    });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal) return;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries < 2) {
        mediaRecoveries += 1;
        hls.recoverMediaError();
        return;
      }
      playerFailed(`hls.js ${data.type}: ${data.details}`);
    });
    hls.loadSource(url);
    hls.attachMedia(video);
    return {
      stop: () => hls.stopLoad(),
      destroy: () => hls.destroy(),
      behind: () => (Number.isFinite(hls.latency) ? hls.latency : 0),
    };
  }
  if (canPlayNatively()) {
    const onError = () => playerFailed('native playback error');
    video.addEventListener('error', onError);
    video.src = url;
    play();
    const detach = () => {
      video.removeEventListener('error', onError);
      video.removeAttribute('src');
      video.load(); // aborts the native loader
    };
    const behind = () => {
      const s = video.seekable;
      return s.length ? Math.max(0, s.end(s.length - 1) - video.currentTime) : 0;
    };
    return {stop: detach, destroy: detach, behind};
  }
  show('error', 'This browser cannot play HLS');
  return null;
}

function destroyPlayer() {
  if (player) {
    player.destroy();
    player = null;
  }
  mode = '';
  liveStopped = false;
}

function startLive() {
  destroyPlayer();
  player = createPlayer(mediaUrl(broadcast?.hls_url, `/hls/${id}/index.m3u8`), true);
  mode = player ? 'live' : '';
  statusEl.dataset.mode = mode;
}

/** A fatal player error: drop the player; status polling decides when to try again. */
function playerFailed(why) {
  console.warn(`livehouse: ${why}; falling back to status polling`);
  const wasVod = mode === 'vod';
  destroyPlayer();
  if (wasVod) {
    show('ended');
    return;
  }
  restartNotBefore = Date.now() + restartDelay;
  restartDelay = Math.min(restartDelay * 2, MAX_RESTART_DELAY_MS);
  statusEl.dataset.mode = '';
}

async function startVod() {
  destroyPlayer();
  const url = mediaUrl(broadcast?.vod_url, `/vod/${id}/index.m3u8`);
  let available = false;
  try {
    available = (await fetch(url, {method: 'HEAD'})).ok;
  } catch {
    available = false;
  }
  if (!available) {
    show('ended', MESSAGES.ended, '');
    return;
  }
  player = createPlayer(url, false);
  mode = player ? 'vod' : '';
  show('ended', player ? MESSAGES.vod : MESSAGES.ended, mode);
}

// --- lifecycle -------------------------------------------------------------------------------

async function onStatus(status) {
  switch (status) {
    case 'live':
      if (!player && Date.now() >= restartNotBefore) {
        startLive();
      } else if (player && mode === 'live' && liveStopped) {
        // Republished: the playlist continues after an EXT-X-DISCONTINUITY; a fresh player
        // joins at the live edge instead of resuming from where it stopped.
        startLive();
      }
      show('live');
      break;
    case 'suspended':
      if (player && mode === 'live' && !liveStopped) {
        player.stop();
        liveStopped = true;
      }
      show('suspended');
      break;
    case 'ended':
      // The archive playlist is written as the broadcast ends, so it may lag the status by a
      // moment: look for it on a few consecutive polls, then settle on "ended".
      if (mode !== 'vod' && vodAttempts < MAX_VOD_ATTEMPTS) {
        vodAttempts += 1;
        await startVod();
      } else if (mode !== 'vod') {
        show('ended', MESSAGES.ended, '');
      }
      break;
    case 'idle':
      show('idle');
      break;
    default:
      show('error', `Unknown status: ${status}`);
  }
}

async function fetchJson(path) {
  const r = await fetch(path, {headers: {Accept: 'application/json'}});
  if (r.status === 404) return {notFound: true};
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return {body: await r.json()};
}

async function pollOnce() {
  try {
    const r = await fetchJson(statusPath);
    if (r.notFound) {
      destroyPlayer();
      show('not_found', MESSAGES.not_found, '');
      return;
    }
    const st = r.body;
    if (st.updated_at && typeof st.position === 'number') {
      edge = {position: st.position, at: Date.parse(st.updated_at),
              max: 3 * (st.target_duration || 2)};
    }
    await onStatus(st.status);
  } catch (e) {
    // The server is unreachable or answered 5xx: keep the player as it is and keep polling.
    if (!player) show('error');
    console.warn(`livehouse: status poll failed: ${e}`);
  }
}

async function pollForever() {
  // Once the recording plays (or is known to be missing) there is nothing left to follow.
  const done = () => mode === 'vod' || statusEl.dataset.status === 'not_found' ||
      (statusEl.dataset.status === 'ended' && vodAttempts >= MAX_VOD_ATTEMPTS);
  while (!done()) {
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    await pollOnce();
  }
}

async function main() {
  if (!id) {
    show('not_found', MESSAGES.not_found, '');
    return;
  }
  try {
    const r = await fetchJson(apiPath);
    if (r.notFound) {
      show('not_found', MESSAGES.not_found, '');
      return;
    }
    broadcast = r.body;
    titleEl.textContent = broadcast.title;
    document.title = `${broadcast.title} — livehouse`;
    await onStatus(broadcast.status);
  } catch (e) {
    show('error');
    console.warn(`livehouse: ${e}`);
    // Keep trying: the first poll that succeeds takes over (title stays blank until then).
  }
  await pollForever();
}

main();
