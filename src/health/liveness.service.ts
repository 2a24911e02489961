import { Injectable } from '@nestjs/common';
import { formatDuration } from '../config/duration.js';

/** The Go proxy's liveness answer; it stays UP whatever the backends do. */
export interface LivenessReport {
  readonly status: 'UP';
  /** Whole seconds since the gateway started, written as Go writes durations: `2m5s`. */
  readonly uptime: string;
}

@Injectable()
export class LivenessService {
  private readonly startedAt = Date.now();

  report(now = Date.now()): LivenessReport {
    const wholeSeconds = Math.floor((now - this.startedAt) / 1000);
    return { status: 'UP', uptime: formatDuration(wholeSeconds * 1000) };
  }
}
