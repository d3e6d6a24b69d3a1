import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { performance } from 'node:perf_hooks';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { poolOf } from '../database/sql';

/** Event-loop utilisation is sampled this often; a job waiting to start checks again as often. */
export const LOAD_SAMPLE_MS = 100;
/** A loop busy this share of the last sample has no time to spare for background work. */
export const BUSY_LOOP_UTILISATION = 0.9;

/** What `busy` decides on: the two signs that requests are queueing in this process. */
export interface LoadReading {
  /**
   * Requests waiting for the database: queries waiting for a connection of the request pool, and writes
   * waiting for a slot of their own (see `countWaiting`).
   */
  waitingForDatabase: number;
  /** Share of the last sample the event loop was running code: the CPU is. */
  loopUtilisation: number;
}

export function isBusy(reading: LoadReading): boolean {
  return reading.waitingForDatabase > 0 || reading.loopUtilisation >= BUSY_LOOP_UTILISATION;
}

/**
 * How busy this instance is with requests, so that background jobs give way to them. Without it a burst
 * of webhook calls (each one queued, then applied by a worker on the same database pool and the same
 * core) had requests wait behind the worker's transactions while the calls kept arriving (bench/README.md,
 * the storm).
 */
@Injectable()
export class InstanceLoad implements OnModuleDestroy {
  private readonly pool?: Pool;
  private mark = performance.eventLoopUtilization();
  private loopUtilisation = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly waitSources: Array<() => number> = [];

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.pool = poolOf(dataSource);
    this.timer = setInterval(() => {
      const now = performance.eventLoopUtilization();
      this.loopUtilisation = performance.eventLoopUtilization(now, this.mark).utilization;
      this.mark = now;
    }, LOAD_SAMPLE_MS).unref();
  }

  /**
   * Counts the requests a module holds back before they reach the pool (the webhook inbox's write slots):
   * they wait for the database as much as the pool's own waiters do.
   */
  countWaiting(source: () => number): void {
    this.waitSources.push(source);
  }

  reading(): LoadReading {
    let waiting = this.pool?.waitingCount ?? 0;
    for (const source of this.waitSources) waiting += source();
    return { waitingForDatabase: waiting, loopUtilisation: this.loopUtilisation };
  }

  busy(): boolean {
    return isBusy(this.reading());
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }
}
