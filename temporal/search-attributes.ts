import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { heraldSearchAttributes } from '../workflows/search-attributes';

/**
 * Registers Herald's custom search attributes on a real cluster. The dev server gets them from
 * its command line; on Temporal Cloud registration is done in the Cloud console and this fails
 * with a permission error, which we report rather than treat as fatal.
 */
export async function registerSearchAttributes(connection: Connection, namespace: string, log: (line: string) => void = console.log): Promise<void> {
  const searchAttributes = Object.fromEntries(
    heraldSearchAttributes.map((key) => [key.name, proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
  );
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (error) {
    const code = (error as { code?: number }).code;
    if (code === GrpcStatus.ALREADY_EXISTS) return;
    log(
      `could not register search attributes ${Object.keys(searchAttributes).join(', ')} (${(error as Error).message}); register them on the cluster so workflows can start`,
    );
  }
}
