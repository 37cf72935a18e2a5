import { ApplicationFailure } from '@temporalio/activity';
import type { EmailContent } from '../src/domain/campaign';
import { singleLine } from '../src/domain/header-safety';
import { renderTemplate, TemplateError } from '../src/domain/template-renderer';

export interface RenderEmailInput {
  content: EmailContent;
  profile: Record<string, unknown>;
  context: Record<string, unknown>;
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text?: string;
}

/** Renders a campaign's email for one recipient; throws TemplateError for a template that cannot render. */
export function renderEmailContent({ content, profile, context }: RenderEmailInput): RenderedEmail {
  const variables = { profile, context };
  return {
    // The subject is rendered as text (no HTML entities) and flattened to one header-safe line.
    subject: singleLine(renderTemplate(content.subject, 'text', variables)),
    html: renderTemplate(content.html, 'html', variables),
    ...(content.text !== undefined && { text: renderTemplate(content.text, 'text', variables) }),
  };
}

export function renderActivities() {
  return {
    /** One recipient per call: the trigger workflow's path before prepareRecipients, kept for replay. */
    async renderEmail(input: RenderEmailInput): Promise<RenderedEmail> {
      try {
        return renderEmailContent(input);
      } catch (error) {
        if (error instanceof TemplateError) throw ApplicationFailure.nonRetryable(error.message, 'TemplateError');
        throw error;
      }
    },
  };
}
