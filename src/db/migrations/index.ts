import type { Migration, MigrationProvider } from 'kysely';
import { initial } from './0001-initial';
import { orphanSweep } from './0002-orphan-sweep';

/** Migrations are listed in code, not discovered on disk, so bundlers and tsx see the same set. */
export const migrationProvider: MigrationProvider = {
  async getMigrations(): Promise<Record<string, Migration>> {
    return { '0001-initial': initial, '0002-orphan-sweep': orphanSweep };
  },
};
