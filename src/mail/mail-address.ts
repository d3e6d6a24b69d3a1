/**
 * One plain address, no display name, no list, no quoting or comments: what a mail is sent to. Nodemailer
 * reads a comma-separated list as several recipients and parses quotes and comments, so anything else is
 * refused before it reaches it.
 */
export const SINGLE_ADDRESS = /^[^\s@,;:<>()"'[\]\\]+@[^\s@,;:<>()"'[\]\\]+$/;
