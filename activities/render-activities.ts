import { ApplicationFailure } from '@temporalio/activity';
import { TemplateError } from '../src/domain/template-renderer';
import type { RenderedEmail, RenderEmailInput, TemplateRenderer } from '../src/rendering/template-renderer';

export type { RenderedEmail, RenderEmailInput } from '../src/rendering/template-renderer';

/** Renders in the sandboxed pool (src/rendering): nothing renders on the worker's main thread. */
export function renderActivities(renderer: TemplateRenderer) {
  return {
    /** One recipient per call: the trigger workflow's path before prepareRecipients, kept for replay. */
    async renderEmail(input: RenderEmailInput): Promise<RenderedEmail> {
      try {
        return await renderer.renderEmail(input);
      } catch (error) {
        if (error instanceof TemplateError) throw ApplicationFailure.nonRetryable(error.message, 'TemplateError');
        throw error;
      }
    },
  };
}
