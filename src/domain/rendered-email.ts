import type { EmailContent } from './campaign';

/** One recipient's render: the campaign's templates and the only variables they may read. */
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
