/**
 * Applies the environment's NATS_PREFIX to stream names, subjects and buckets, so that isolated
 * environments (each test file, a preview deployment) can share one NATS server.
 */
export class NatsNaming {
  constructor(readonly prefix: string) {}

  stream(name: string): string {
    return this.prefix ? `${this.prefix}_${name}` : name;
  }

  bucket(name: string): string {
    return this.prefix ? `${this.prefix}_${name}` : name;
  }

  subject(subject: string): string {
    return this.prefix ? `${this.prefix}.${subject}` : subject;
  }

  /** The subject as the rest of the code knows it (prefix removed). */
  unprefix(subject: string): string {
    return this.prefix && subject.startsWith(`${this.prefix}.`)
      ? subject.slice(this.prefix.length + 1)
      : subject;
  }
}
