/**
 * Hides credentials in text an adapter puts into errors, logs and metrics (a Redis or AMQP URL, or a
 * whole message quoting one): the password of every
 * `scheme://user:password@host` and `scheme://:password@host` (redis, rediss, amqp, amqps, any scheme) becomes
 * `***`, a user without a password is kept, and so is a `password=` / `pass=` / `auth=` query
 * parameter's name, not its value. Applied to whole messages too: an ioredis error may quote the URL.
 */
export function redactUrl(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)([^\s:@/?#]*):([^\s/?#]*)@/gi, (_all, scheme: string, user: string) => `${scheme}${user}:***@`)
    .replace(/([?&](?:password|pass|auth|requirepass)=)[^&#\s]*/gi, '$1***');
}
