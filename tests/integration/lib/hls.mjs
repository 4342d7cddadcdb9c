// HLS media playlist parser and RFC 8216 checks for the integration tests.
//
// parsePlaylist() is lenient: it never throws, it records what it could not understand in
// `problems`, so a validator can report every rule a playlist breaks at once. The validators
// throw an AssertionError listing all broken rules plus the playlist text.
//
// Limits: media playlists only (no master playlists, no LL-HLS parts, no EXT-X-MAP/KEY checks).

import assert from 'node:assert/strict';

const DECIMAL_INTEGER = /^[0-9]{1,20}$/;
const DECIMAL_FLOAT = /^[0-9]+(\.[0-9]+)?$/;
// RFC 8216 §4.3.2.6: "date/time representation is ISO/IEC 8601:2004 [ISO_8601] and SHOULD
// indicate a time zone and fractional parts of seconds".
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Parses a media playlist.
 * @param {string} text playlist body
 * @returns {{
 *   text: string, version: number|null, targetDuration: number|null,
 *   mediaSequence: number|null, discontinuitySequence: number|null,
 *   playlistType: string|null, endList: boolean, independentSegments: boolean,
 *   segments: Array<{sequence:number, duration:number, title:string, uri:string,
 *                    discontinuity:boolean, programDateTime:string|null}>,
 *   tags: Array<{name:string, value:string|null, line:number}>, problems: string[]
 * }}
 */
export function parsePlaylist(text) {
    const p = {
        text,
        version : null,
        targetDuration : null,
        mediaSequence : null,
        discontinuitySequence : null,
        playlistType : null,
        endList : false,
        independentSegments : false,
        segments : [],
        tags : [],
        problems : [],
    };
    if (typeof text !== 'string') {
        p.problems.push('playlist is not text');
        return p;
    }
    if (text.charCodeAt(0) === 0xfeff)
        p.problems.push('RFC 8216 §4.1: playlist starts with a BOM');
    const lines = text.split(/\r?\n/);
    // RFC 8216 §4.3.1.1: "It MUST be the first line of every Media Playlist".
    if (lines[0] !== '#EXTM3U')
        p.problems.push('RFC 8216 §4.3.1.1: first line is not #EXTM3U');

    const once = new Set();
    const playlistTag = (name, lineNo) => {
        // RFC 8216 §4.3.3: Media Playlist tags "MUST NOT appear more than once".
        if (once.has(name))
            p.problems.push(`line ${lineNo}: ${name} appears more than once`);
        once.add(name);
        if (p.segments.length > 0 && name !== 'EXT-X-ENDLIST') {
            p.problems.push(`line ${lineNo}: ${name} appears after the first media segment`);
        }
    };
    const integer = (value, name, lineNo) => {
        if (!DECIMAL_INTEGER.test(value ?? '')) {
            p.problems.push(
                `line ${lineNo}: ${name} value ${JSON.stringify(value)} is not a decimal-integer`);
            return null;
        }
        return Number(value);
    };

    let pending = {duration : null, title : '', discontinuity : false, programDateTime : null};
    for (let i = 1; i < lines.length; i++) {
        const line = lines[i];
        const lineNo = i + 1;
        if (line === '')
            continue;
        if (line.startsWith('#EXT')) {
            const colon = line.indexOf(':');
            const name = (colon < 0 ? line : line.slice(0, colon)).slice(1);
            const value = colon < 0 ? null : line.slice(colon + 1);
            p.tags.push({name, value, line : lineNo});
            switch (name) {
            case 'EXTM3U':
                p.problems.push(`line ${lineNo}: #EXTM3U repeated`);
                break;
            case 'EXT-X-VERSION':
                playlistTag(name, lineNo);
                p.version = integer(value, name, lineNo);
                break;
            case 'EXT-X-TARGETDURATION':
                playlistTag(name, lineNo);
                p.targetDuration = integer(value, name, lineNo);
                break;
            case 'EXT-X-MEDIA-SEQUENCE':
                playlistTag(name, lineNo);
                p.mediaSequence = integer(value, name, lineNo);
                break;
            case 'EXT-X-DISCONTINUITY-SEQUENCE':
                playlistTag(name, lineNo);
                p.discontinuitySequence = integer(value, name, lineNo);
                break;
            case 'EXT-X-PLAYLIST-TYPE':
                playlistTag(name, lineNo);
                if (value !== 'VOD' && value !== 'EVENT') {
                    p.problems.push(
                        `line ${lineNo}: EXT-X-PLAYLIST-TYPE ${value} is not VOD or EVENT`);
                }
                p.playlistType = value;
                break;
            case 'EXT-X-ENDLIST':
                playlistTag(name, lineNo);
                p.endList = true;
                break;
            case 'EXT-X-INDEPENDENT-SEGMENTS':
                p.independentSegments = true;
                break;
            case 'EXTINF': {
                if (pending.duration !== null)
                    p.problems.push(`line ${lineNo}: two EXTINF without a URI`);
                const comma = (value ?? '').indexOf(',');
                const d = comma < 0 ? value ?? '' : value.slice(0, comma);
                if (comma < 0)
                    p.problems.push(`line ${lineNo}: EXTINF without the comma (RFC 8216 §4.3.2.1)`);
                if (!DECIMAL_FLOAT.test(d)) {
                    p.problems.push(
                        `line ${lineNo}: EXTINF duration ${JSON.stringify(d)} is not a number`);
                }
                pending.duration = Number(d);
                pending.title = comma < 0 ? '' : value.slice(comma + 1);
                break;
            }
            case 'EXT-X-DISCONTINUITY':
                pending.discontinuity = true;
                break;
            case 'EXT-X-PROGRAM-DATE-TIME':
                if (!ISO_DATE_TIME.test(value ?? '') || Number.isNaN(Date.parse(value))) {
                    p.problems.push(`line ${lineNo}: EXT-X-PROGRAM-DATE-TIME ${
                        JSON.stringify(value)} is not ISO 8601 with a zone`);
                }
                pending.programDateTime = value;
                break;
            default:
                // Other tags (EXT-X-BYTERANGE, EXT-X-KEY, ...) are not used by livehouse; ignore.
                break;
            }
            continue;
        }
        if (line.startsWith('#'))
            continue; // a comment (RFC 8216 §4.1)
        // A URI line.
        if (pending.duration === null) {
            // RFC 8216 §4.3.2.1: "This tag is REQUIRED for each Media Segment."
            p.problems.push(`line ${lineNo}: URI ${line} has no EXTINF`);
        }
        p.segments.push({
            sequence : NaN, // set below, once MEDIA-SEQUENCE is known
            duration : pending.duration ?? NaN,
            title : pending.title,
            uri : line,
            discontinuity : pending.discontinuity,
            programDateTime : pending.programDateTime,
        });
        pending = {duration : null, title : '', discontinuity : false, programDateTime : null};
    }
    if (pending.duration !== null || pending.discontinuity || pending.programDateTime !== null) {
        p.problems.push('segment tags at the end of the playlist without a URI');
    }
    // RFC 8216 §4.3.3.2: "If the Media Playlist file does not contain an EXT-X-MEDIA-SEQUENCE
    // tag, then the Media Sequence Number of the first Media Segment in the Media Playlist SHALL
    // be considered to be 0."
    const first = p.mediaSequence ?? 0;
    p.segments.forEach((s, i) => { s.sequence = first + i; });
    return p;
}

/** Sum of the EXTINF durations of a parsed playlist, in seconds. */
export function playlistDuration(parsed) {
    return parsed.segments.reduce((sum, s) => sum + s.duration, 0);
}

function commonProblems(p, {targetDuration}) {
    const problems = [...p.problems ];
    // RFC 8216 §4.3.3.1: "This tag is REQUIRED."
    if (p.targetDuration === null)
        problems.push('RFC 8216 §4.3.3.1: EXT-X-TARGETDURATION missing');
    if (targetDuration !== undefined && p.targetDuration !== targetDuration) {
        problems.push(`EXT-X-TARGETDURATION is ${p.targetDuration}, expected ${targetDuration}`);
    }
    if (p.segments.length === 0)
        problems.push('no media segments');
    let fractional = false;
    let lastPdt = -Infinity;
    for (const s of p.segments) {
        if (!(s.duration > 0))
            problems.push(`segment ${s.uri}: EXTINF duration ${s.duration} is not positive`);
        if (!Number.isInteger(s.duration))
            fractional = true;
        // RFC 8216 §4.3.3.1: "The EXTINF duration of each Media Segment in the Playlist file,
        // when rounded to the nearest integer, MUST be less than or equal to the target
        // duration".
        if (p.targetDuration !== null && Math.round(s.duration) > p.targetDuration) {
            problems.push(`RFC 8216 §4.3.3.1: segment ${s.uri} EXTINF ${
                s.duration} rounds above TARGETDURATION ${p.targetDuration}`);
        }
        // Livehouse contract: segment URIs are relative to the playlist (CDN-movable).
        if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(s.uri) || s.uri.startsWith('/')) {
            problems.push(`segment URI ${s.uri} is not relative`);
        }
        if (s.programDateTime !== null) {
            const t = Date.parse(s.programDateTime);
            if (t < lastPdt)
                problems.push(`segment ${s.uri}: PROGRAM-DATE-TIME goes backwards`);
            lastPdt = t;
        }
    }
    // RFC 8216 §4.3.2.1: "Durations MUST be integers if the compatibility version number is
    // less than 3."  §7: floating-point EXTINF needs EXT-X-VERSION >= 3.
    if (fractional && (p.version ?? 1) < 3) {
        problems.push(
            `RFC 8216 §7: fractional EXTINF durations need EXT-X-VERSION >= 3 (have ${p.version})`);
    }
    return problems;
}

function fail(kind, text, problems) {
    throw new assert.AssertionError({
        message : `${kind} playlist breaks ${problems.length} rule(s):\n  - ${
                      problems.join('\n  - ')}\n` +
                      `--- playlist ---\n${text}\n--- end ---`,
    });
}

/**
 * Checks a live media playlist against RFC 8216 and the livehouse contract: #EXTM3U first,
 * TARGETDURATION present (and equal to opts.targetDuration when given) and >= every rounded
 * EXTINF, MEDIA-SEQUENCE present as an integer, EXT-X-PROGRAM-DATE-TIME on the first segment,
 * relative segment URIs, no ENDLIST / PLAYLIST-TYPE:VOD.
 * @returns the parsed playlist. Throws an AssertionError naming every broken rule.
 */
export function validateLivePlaylist(text, opts = {}) {
    const p = parsePlaylist(text);
    const problems = commonProblems(p, opts);
    if (p.mediaSequence === null)
        problems.push('RFC 8216 §4.3.3.2: live playlist without EXT-X-MEDIA-SEQUENCE');
    if (p.segments.length > 0 && p.segments[0].programDateTime === null) {
        problems.push('first segment has no EXT-X-PROGRAM-DATE-TIME');
    }
    if (!opts.allowEndList && p.endList)
        problems.push('live playlist has EXT-X-ENDLIST');
    if (p.playlistType === 'VOD')
        problems.push('live playlist has EXT-X-PLAYLIST-TYPE:VOD');
    if (problems.length)
        fail('live', text, problems);
    return p;
}

/**
 * Checks a VOD playlist: the common rules plus EXT-X-PLAYLIST-TYPE:VOD and EXT-X-ENDLIST as the
 * last tag (RFC 8216 §4.3.3.4, §4.3.3.5).
 * @returns the parsed playlist. Throws an AssertionError naming every broken rule.
 */
export function validateVodPlaylist(text, opts = {}) {
    const p = parsePlaylist(text);
    const problems = commonProblems(p, opts);
    if (p.playlistType !== 'VOD')
        problems.push(`EXT-X-PLAYLIST-TYPE is ${p.playlistType}, expected VOD`);
    if (!p.endList)
        problems.push('RFC 8216 §4.3.3.4: VOD playlist without EXT-X-ENDLIST');
    const lastTag = p.tags[p.tags.length - 1];
    if (p.endList && lastTag?.name !== 'EXT-X-ENDLIST')
        problems.push('EXT-X-ENDLIST is not the last tag');
    if (problems.length)
        fail('VOD', text, problems);
    return p;
}

/**
 * Follows successive versions of one live playlist and checks the RFC 8216 §6.2.1/§6.2.2 server
 * rules between them: MEDIA-SEQUENCE never decreases, TARGETDURATION never changes, a segment
 * (by media sequence number) never changes its URI, duration or discontinuity flag, segments
 * leave only from the front, and DISCONTINUITY-SEQUENCE grows by the number of
 * EXT-X-DISCONTINUITY tags that left.
 */
export class PlaylistHistory {
    constructor() {
        /** @type {Map<number, object>} every segment ever seen, by media sequence number */
        this.seen = new Map();
        this.last = null;
        this.versions = 0;
    }

    /**
     * Adds the next version (a parsed playlist). Throws an AssertionError on a broken rule.
     * @returns {{added: object[], removed: object[]}} segments new in / gone from this version
     */
    add(p) {
        const problems = [];
        const prev = this.last;
        const added = [];
        const removed = [];
        for (const s of p.segments) {
            const old = this.seen.get(s.sequence);
            if (!old) {
                this.seen.set(s.sequence, s);
                added.push(s);
                continue;
            }
            // RFC 8216 §6.2.1: the server MUST NOT change the playlist except to append lines
            // or remove segments in order: a given sequence number keeps its segment.
            if (old.uri !== s.uri || old.duration !== s.duration ||
                old.discontinuity !== s.discontinuity) {
                problems.push(`segment ${s.sequence} changed: ${JSON.stringify(old)} -> ${
                    JSON.stringify(s)}`);
            }
        }
        if (prev) {
            if (p.targetDuration !== prev.targetDuration) {
                problems.push(`RFC 8216 §6.2.1: EXT-X-TARGETDURATION changed ${
                    prev.targetDuration} -> ${p.targetDuration}`);
            }
            const prevMs = prev.mediaSequence ?? 0;
            const ms = p.mediaSequence ?? 0;
            if (ms < prevMs)
                problems.push(`EXT-X-MEDIA-SEQUENCE decreased ${prevMs} -> ${ms}`);
            const prevLast = prevMs + prev.segments.length - 1;
            const newLast = ms + p.segments.length - 1;
            if (newLast < prevLast)
                problems.push(`last segment went back from ${prevLast} to ${newLast}`);
            for (const s of prev.segments) {
                if (s.sequence < ms)
                    removed.push(s);
            }
            // RFC 8216 §6.2.2: "If the server removes an EXT-X-DISCONTINUITY tag from the Media
            // Playlist, it MUST increment the value of the EXT-X-DISCONTINUITY-SEQUENCE tag".
            // Count only when every segment that left was seen, else we cannot know.
            let leftDiscontinuities = 0;
            let known = true;
            for (let seq = prevMs; seq < ms; seq++) {
                const s = this.seen.get(seq);
                if (!s)
                    known = false;
                else if (s.discontinuity)
                    leftDiscontinuities++;
            }
            const prevDs = prev.discontinuitySequence ?? 0;
            const ds = p.discontinuitySequence ?? 0;
            if (known && ds !== prevDs + leftDiscontinuities) {
                problems.push(`EXT-X-DISCONTINUITY-SEQUENCE is ${ds}, expected ${prevDs} + ${
                    leftDiscontinuities} removed discontinuities`);
            }
            if (!known && ds < prevDs)
                problems.push(`EXT-X-DISCONTINUITY-SEQUENCE decreased ${prevDs} -> ${ds}`);
        }
        if (problems.length) {
            throw new assert.AssertionError({
                message :
                    `live playlist update breaks ${problems.length} rule(s):\n  - ${
                        problems.join('\n  - ')}\n` +
                        `--- previous ---\n${prev?.text}\n--- current ---\n${p.text}\n--- end ---`,
            });
        }
        this.last = p;
        this.versions++;
        return {added, removed};
    }

    /** Sum of the durations of every distinct segment seen so far. */
    totalDuration() {
        let sum = 0;
        for (const s of this.seen.values())
            sum += s.duration;
        return sum;
    }
}
