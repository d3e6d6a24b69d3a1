/**
 * One plain address, no display name, no list, no quoting or comments: what a mail is sent to. Nodemailer
 * reads a comma-separated list as several recipients and parses quotes and comments, so anything else is
 * refused before it reaches it. No control or invisible format characters either (U+00AD soft hyphen,
 * U+200B zero-width space, U+202E bidi override…): they make an address look like another one.
 */
export const SINGLE_ADDRESS = /^[^\s@,;:<>()"'[\]\\\p{Cc}\p{Cf}]+@[^\s@,;:<>()"'[\]\\\p{Cc}\p{Cf}]+$/u;
