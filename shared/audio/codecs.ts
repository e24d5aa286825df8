/**
 * The audio-decode codec packages the documented formats need: WAV, MP3, FLAC, Ogg Vorbis, Opus, and the WebM and
 * MP4/M4A containers with the Opus, Vorbis, AAC, MP3 or FLAC they carry. container.ts refuses any other format
 * before a decoder is chosen, so the web console's bundle (web/vite.config.ts) leaves audio-decode's other codecs
 * out (AC-3, DTS, WMA, tracker modules…: 4.5 MB of the 7.8 MB build, 3 Dec 2026). Node keeps them all.
 */
export const DOCUMENTED_CODECS: readonly string[] = Object.freeze([
  '@audio/decode-wav',
  '@audio/decode-mp3',
  '@audio/decode-flac',
  '@audio/decode-opus',
  '@audio/decode-vorbis',
  '@audio/decode-aac',
  '@audio/decode-mp4',
  '@audio/decode-webm',
]);
