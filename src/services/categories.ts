import { isUniqueViolation } from '../db/unique-violation';
import { DomainError, notFound } from '../domain/errors';
import type { Category } from '../domain/preferences';
import { AuditLogRepository } from '../repositories/audit-log';
import { CategoryRepository, type CategoryEdit, type NewCategory } from '../repositories/categories';
import type { ServiceDependencies } from './service-dependencies';

/** Campaign ids a refused delete names, at most. */
const CARRIERS_SHOWN = 10;

/** Creates a category with its audit entry; 409 when the key is taken. */
export async function createCategory(deps: Pick<ServiceDependencies, 'db'>, category: NewCategory, actorKeyId: string): Promise<Category> {
  try {
    return await deps.db.transaction().execute(async (trx) => {
      const created = await new CategoryRepository(trx).create(category);
      await new AuditLogRepository(trx).record({ actorKeyId, action: 'category.created', resourceType: 'category', resourceId: created.key, after: created });
      return created;
    });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    throw new DomainError('conflict', 'category-exists', 'Category exists', `There is already a category ${category.key}.`);
  }
}

export function listCategories(deps: Pick<ServiceDependencies, 'db'>): Promise<Category[]> {
  return new CategoryRepository(deps.db).list();
}

export async function getCategory(deps: Pick<ServiceDependencies, 'db'>, key: string): Promise<Category> {
  const category = await new CategoryRepository(deps.db).get(key);
  if (!category) throw notFound(`Category ${key}`);
  return category;
}

/** Edits a category with its audit entry (before and after). Takes effect at the next send. */
export function editCategory(deps: Pick<ServiceDependencies, 'db'>, key: string, edit: CategoryEdit, actorKeyId: string): Promise<Category> {
  return deps.db.transaction().execute(async (trx) => {
    const categories = new CategoryRepository(trx);
    const before = await categories.get(key);
    const after = before && (await categories.edit(key, edit));
    if (!before || !after) throw notFound(`Category ${key}`);
    await new AuditLogRepository(trx).record({ actorKeyId, action: 'category.updated', resourceType: 'category', resourceId: key, before, after });
    return after;
  });
}

/**
 * Deletes a category with its audit entry. Refused (409) while a campaign carries it, whatever
 * the campaign's status: its sends, and the report of what it sent, name the category.
 */
export function deleteCategory(deps: Pick<ServiceDependencies, 'db'>, key: string, actorKeyId: string): Promise<void> {
  return deps.db.transaction().execute(async (trx) => {
    const categories = new CategoryRepository(trx);
    const before = await categories.get(key);
    if (!before) throw notFound(`Category ${key}`);
    const carriers = await categories.campaignsCarrying(key, CARRIERS_SHOWN);
    if (carriers.length > 0) {
      throw new DomainError(
        'conflict',
        'category-in-use',
        'Category in use',
        `Campaign(s) ${carriers.join(', ')}${carriers.length === CARRIERS_SHOWN ? ' and more' : ''} carry category ${key}; give them another category (PATCH "category") before deleting it.`,
      );
    }
    await categories.delete(key);
    await new AuditLogRepository(trx).record({ actorKeyId, action: 'category.deleted', resourceType: 'category', resourceId: key, before });
  });
}
